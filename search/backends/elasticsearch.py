"""Elasticsearch 9 through elasticsearch.dsl: nested segments for moments, post_filter facets, an alias per prefix."""

import datetime
import logging
import re
from collections import defaultdict

from django.utils.html import escape
from django.utils.safestring import mark_safe
from elasticsearch.dsl import A, Index, Q, Search
from elasticsearch.helpers import bulk

from ..analysis import SearchText, fold, words
from ..documents import StoryIndexDocument, language_fields, story_document
from ..query import FACETS, MOMENTS_PER_HIT, FacetValue, Moment, StoryQuery, StorySearchResults
from .hits import facet_labels, hits_in_order

logger = logging.getLogger(__name__)

FACET_FIELDS = {
    "theme": "themes",
    "generation": "generations",
    "community": "community",
    "language": "language",
    "kind": "kind",
}
FACET_SIZE = 50
STORY_TEXT = ["title", "summary", "content", "transcript"]
BOOSTS = {"title": 3, "summary": 2, "content": 1, "transcript": 1}
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, *, url: str = "", prefix: str = "storyarchive", client=None):
        self.url = url
        self.prefix = prefix
        self._client = client

    @property
    def client(self):
        if self._client is None:
            from elasticsearch import Elasticsearch

            self._client = Elasticsearch(self.url, request_timeout=10)
        return self._client

    @property
    def alias(self) -> str:
        return f"{self.prefix}-stories"

    def new_index_name(self) -> str:
        return f"{self.alias}-{datetime.datetime.now(datetime.UTC):%Y%m%d%H%M%S%f}"

    def index_definition(self, name: str) -> Index:
        index = Index(name)
        index.settings(number_of_shards=1, number_of_replicas=0)
        index.document(StoryIndexDocument)
        return index

    # Writing ---------------------------------------------------------------------------------------------------

    def _ensure_alias(self) -> None:
        if not self.client.indices.exists_alias(name=self.alias):
            name = self.new_index_name()
            self.index_definition(name).create(using=self.client)
            self.client.indices.put_alias(index=name, name=self.alias)

    def index_story(self, story) -> None:
        self._ensure_alias()
        self.client.index(index=self.alias, id=str(story.id), document=story_document(story), refresh="wait_for")

    def remove_story(self, story_id: int) -> None:
        if self.client.indices.exists_alias(name=self.alias):
            self.client.options(ignore_status=404).delete(index=self.alias, id=str(story_id), refresh="wait_for")

    def rebuild(self, stories) -> int:
        """Fill a fresh index, then point the alias at it in one atomic step, then drop the old indices."""
        name = self.new_index_name()
        self.index_definition(name).create(using=self.client)
        indexed = 0

        def actions():
            nonlocal indexed
            for story in stories:
                indexed += 1
                yield {"_index": name, "_id": str(story.id), "_source": story_document(story)}

        bulk(self.client, actions(), chunk_size=500)
        self.client.indices.refresh(index=name)
        old = list(self.client.indices.get_alias(name=self.alias).keys()) if self._alias_exists() else []
        self.client.indices.update_aliases(actions=alias_swap(self.alias, old, name))
        for stale in old:
            self.client.indices.delete(index=stale)
        return indexed

    def _alias_exists(self) -> bool:
        return bool(self.client.indices.exists_alias(name=self.alias))

    # Reading ---------------------------------------------------------------------------------------------------

    def search(self, query: StoryQuery) -> StorySearchResults:
        body = search_body(query, self.alias).to_dict()
        response = self.client.search(index=self.alias, body=body)
        return parse_response(response.body if hasattr(response, "body") else response, query)

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        body = suggest_body(prefix, limit)
        if body is None:
            return []
        response = self.client.search(index=self.alias, body=body)
        return parse_suggestions(response.body if hasattr(response, "body") else response)

    def status(self) -> dict:
        status = {"backend": self.name, "url": self.url, "alias": self.alias}
        try:
            health = self.client.cluster.health()
            status["cluster_status"] = health["status"]
            status["indexed_stories"] = self.client.count(index=self.alias)["count"] if self._alias_exists() else 0
            status["indices"] = (
                list(self.client.indices.get_alias(name=self.alias).keys()) if self._alias_exists() else []
            )
            status["healthy"] = health["status"] in ("green", "yellow")
        except Exception as error:  # noqa: BLE001 - status reports any failure to reach the cluster as unhealthy
            status["healthy"] = False
            status["error"] = str(error)
        from stories.models import StoryPage

        status["public_stories"] = StoryPage.objects.visible_to_public().count()
        return status


def alias_swap(alias: str, old_indices: list[str], new_index: str) -> list[dict]:
    """One update_aliases call: readers see the old index or the new one, never neither."""
    return [
        *({"remove": {"index": old, "alias": alias}} for old in old_indices),
        {"add": {"index": new_index, "alias": alias}},
    ]


def _text_query(search_text: SearchText, *, prefix: str = "", any_term: bool = False):
    """Every term and phrase (or any, for moments) across the language fields; no character is an operator."""
    fields = []
    for name in STORY_TEXT if not prefix else ["text"]:
        boost = BOOSTS.get(name, 1)
        fields += [f"{prefix}{field}^{boost}" if boost != 1 else f"{prefix}{field}" for field in language_fields(name)]
    clauses = [Q("multi_match", query=term, fields=fields, type="best_fields") for term in search_text.terms]
    clauses += [
        Q("multi_match", query=" ".join(phrase), fields=fields, type="phrase") for phrase in search_text.phrases
    ]
    return Q("bool", should=clauses, minimum_should_match=1) if any_term else Q("bool", must=clauses)


def _facet_filters(query: StoryQuery) -> dict:
    return {
        facet: Q("terms", **{FACET_FIELDS[facet]: list(query.selected(facet))})
        for facet in FACETS
        if query.selected(facet)
    }


def search_body(query: StoryQuery, index: str = "") -> Search:
    """The request: text and range filters in `query`; facet filters in post_filter so each facet's own
    aggregation can leave its own filter out."""
    search_text = query.search_text
    search = Search(index=index or None)
    must, shared = [], []
    if search_text:
        must.append(_text_query(search_text))
    if query.intergenerational:
        shared.append(Q("range", generation_count={"gte": 2}))
    dates = {}
    if query.recorded_from:
        dates["gte"] = query.recorded_from.isoformat()
    if query.recorded_to:
        dates["lte"] = query.recorded_to.isoformat()
    if dates:
        shared.append(Q("range", recorded_on=dates))
    should = []
    if search_text:
        # Moments: the best segments for any of the words, highlighted, as nested inner hits.
        text_fields = [f"segments.{field}" for field in language_fields("text")]
        should.append(
            Q(
                "nested",
                path="segments",
                score_mode="max",
                query=_text_query(search_text, prefix="segments.", any_term=True),
                inner_hits={
                    "name": "moments",
                    "size": MOMENTS_PER_HIT,
                    "highlight": {
                        "pre_tags": [MARK_OPEN],
                        "post_tags": [MARK_CLOSE],
                        "number_of_fragments": 0,
                        "fields": {field: {} for field in text_fields},
                    },
                },
            )
        )
    search = search.query(Q("bool", must=must or [Q("match_all")], filter=shared, should=should))
    filters = _facet_filters(query)
    if filters:
        search = search.post_filter(Q("bool", filter=list(filters.values())))
    for facet in FACETS:
        others = [clause for name, clause in filters.items() if name != facet]
        aggregation = A("filter", Q("bool", filter=others)) if others else A("filter", Q("match_all"))
        aggregation.bucket("values", "terms", field=FACET_FIELDS[facet], size=FACET_SIZE)
        search.aggs.bucket(facet, aggregation)
    if query.sort == "newest" or (query.sort == "relevance" and not search_text):
        search = search.sort(
            {"recorded_on": {"order": "desc", "missing": "_last"}}, {"published_at": {"order": "desc"}}
        )
    elif query.sort == "oldest":
        search = search.sort({"recorded_on": {"order": "asc", "missing": "_last"}}, {"published_at": {"order": "asc"}})
    snippet_fields = [field for name in ("summary", "content") for field in language_fields(name)]
    search = search.highlight_options(
        pre_tags=[MARK_OPEN], post_tags=[MARK_CLOSE], fragment_size=160, number_of_fragments=1
    ).highlight(*snippet_fields)
    search = search.source(["story_id", "analyzer", *language_fields("summary")])
    search = search.extra(track_total_hits=True, track_scores=True)
    return search[query.offset : query.offset + query.page_size]


def suggest_body(prefix: str, limit: int) -> dict | None:
    typed = words(prefix[-100:])
    if not typed or len(typed[-1]) < 2:
        return None
    start = fold(typed[-1])
    return {
        "size": 0,
        "query": {"prefix": {"words": start}},
        "aggs": {"words": {"terms": {"field": "words", "include": f"{re.escape(start)}.*", "size": limit}}},
    }


def parse_suggestions(response: dict) -> list[str]:
    return [bucket["key"] for bucket in response.get("aggregations", {}).get("words", {}).get("buckets", [])]


def safe_highlight(fragment: str):
    """Elasticsearch returns highlights unescaped: escape everything, then let only our <mark> tags through."""
    escaped = escape(fragment).replace(escape(MARK_OPEN), MARK_OPEN).replace(escape(MARK_CLOSE), MARK_CLOSE)
    return mark_safe(escaped)  # noqa: S308 - escaped above; only the two mark tags are restored


def parse_response(response: dict, query: StoryQuery) -> StorySearchResults:
    """Read a search response shaped as Elasticsearch documents it into hits, moments and facets."""
    ids, snippets, scores, moments = [], {}, {}, defaultdict(list)
    for raw in response["hits"]["hits"]:
        story_id = int(raw["_id"])
        ids.append(story_id)
        scores[story_id] = float(raw.get("_score") or 0.0)
        fragments = [f for values in raw.get("highlight", {}).values() for f in values]
        summary = next((v for k, v in raw.get("_source", {}).items() if k.startswith("summary_") and v), "")
        snippets[story_id] = safe_highlight(fragments[0]) if fragments else safe_highlight(summary[:300])
        for inner in raw.get("inner_hits", {}).get("moments", {}).get("hits", {}).get("hits", []):
            source = inner["_source"]
            text = next((v for k, v in source.items() if k.startswith("text_") and v), "")
            highlighted = next(iter(inner.get("highlight", {}).values()), [escape(text)])
            moments[story_id].append(
                Moment(float(source["start"]), float(source["end"]), text, safe_highlight(highlighted[0]))
            )
    for story_id in moments:
        moments[story_id].sort(key=lambda m: m.start)
    total = response["hits"]["total"]
    total = total["value"] if isinstance(total, dict) else int(total)
    facets = {facet: _facet_values(facet, response.get("aggregations", {}), query) for facet in FACETS}
    hits = hits_in_order(ids, snippets, scores, moments)
    # A story that left public view since it was indexed is dropped here and no longer counted.
    total -= len(ids) - len(hits)
    return StorySearchResults(query=query, total=total, hits=hits, facets=facets)


def _facet_values(facet: str, aggregations: dict, query: StoryQuery) -> list[FacetValue]:
    buckets = aggregations.get(facet, {}).get("values", {}).get("buckets", [])
    counts = {bucket["key"]: bucket["doc_count"] for bucket in buckets}
    selected = query.selected(facet)
    for value in selected:
        counts.setdefault(value, 0)
    labels = facet_labels(facet, list(counts))
    return sorted(
        (FacetValue(value=v, label=labels.get(v, v), count=n, selected=v in selected) for v, n in counts.items()),
        key=lambda f: (-f.count, f.label.lower()),
    )
