"""Elasticsearch 9 through elasticsearch.dsl: nested segments for moments, post_filter facets, an alias per prefix.

Hits, facet counts, moments and highlighting are the database backend's: the same stems (see search/documents.py),
the same rules for moments and snippets (search/backends/hits.py). Scores, and so the order of a ranked page, are
Elasticsearch's own BM25."""

import contextlib
import datetime
import functools
import hashlib
import json
import logging
import re
import urllib.parse

from elasticsearch.dsl import A, Index, Mapping, Q, Search
from elasticsearch.helpers import bulk, scan

from ..analysis import DEFAULT_ANALYZER, QUERY_ANALYZERS, SearchText, fold, stem, words
from ..documents import StoryIndexDocument, story_document
from ..figures import (
    CROSSED,
    NO_DATE,
    READ_PER_GENERATION,
    StoryFigures,
    StoryTexts,
    Tally,
    quarter_of,
    stories_to_read,
)
from ..postings import BODY_WEIGHT, TITLE_WEIGHT
from ..query import FACETS, MAX_PAGE, MAX_PAGE_SIZE, MOMENTS_PER_HIT, FacetValue, StoryQuery, StorySearchResults
from . import SearchUnavailable
from .database import SUGGESTION_DOCUMENTS
from .hits import (
    best_moments,
    facet_labels,
    forget_stale,
    hits_in_order,
    story_snippet,
    visible_stories,
    visible_story_ids,
)

logger = logging.getLogger(__name__)

FACET_FIELDS = {
    "theme": "themes",
    "generation": "generations",
    "community": "community",
    "language": "language",
    "kind": "kind",
}
# Every value of a facet is counted, as on the database backend; an archive has far fewer communities than this.
FACET_SIZE = 1000
STORY_FIELDS = [f"title_stems^{TITLE_WEIGHT:g}", f"body_stems^{BODY_WEIGHT:g}"]
# Segments where the words come up, read for each hit on a page; the moments are chosen among them. Elasticsearch
# returns at most this many inner hits unless an index allows more.
MOMENT_CANDIDATES = 100
# Settings an operator may change on a live index without rebuilding it; everything else is the definition.
LIVE_SETTINGS = {"number_of_replicas", "refresh_interval"}


def _where(url: str) -> str:
    """The node URLs without any user name or password, for messages."""
    shown = []
    for node in url.split(","):
        parts = urllib.parse.urlsplit(node.strip())
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        shown.append(parts._replace(netloc=host).geturl() if parts.hostname else node.strip())
    return ", ".join(shown)


@contextlib.contextmanager
def _reaching(url: str):
    """Turn "the cluster cannot answer now" into SearchUnavailable; a request the cluster refuses stays an error."""
    from elasticsearch import ApiError, NotFoundError, TransportError, UnsupportedProductError

    try:
        yield
    except UnsupportedProductError as error:
        raise SearchUnavailable(f"{_where(url)} does not answer as Elasticsearch") from error
    except NotFoundError as error:
        if error.error != "index_not_found_exception":
            raise
        raise SearchUnavailable("the story index does not exist: run `search_index rebuild`") from error
    except ApiError as error:
        if error.status_code < 500 and error.status_code not in (401, 403):
            raise
        raise SearchUnavailable(
            f"Elasticsearch at {_where(url)} answered {error.status_code}: {error.error}"
        ) from error
    except TransportError as error:
        raise SearchUnavailable(f"cannot reach Elasticsearch at {_where(url)}: {error}") from error


def _unavailable_when_unreachable(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _reaching(self.url):
            return method(self, *args, **kwargs)

    return wrapper


def definition_hash(index: Index) -> str:
    """A fingerprint of the mappings and settings the code builds; an index built from other ones needs a rebuild."""
    definition = index.to_dict()
    settings = {k: v for k, v in definition.get("settings", {}).items() if k not in LIVE_SETTINGS}
    mappings = {k: v for k, v in definition.get("mappings", {}).items() if k != "_meta"}
    text = json.dumps({"settings": settings, "mappings": mappings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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

            # Every node named is tried: a request that fails on one node (gone, timed out, overloaded) is retried
            # on another before a visitor would see an error.
            self._client = Elasticsearch(node_urls(self.url), request_timeout=10, max_retries=3, retry_on_timeout=True)
        return self._client

    @property
    def alias(self) -> str:
        return f"{self.prefix}-stories"

    def new_index_name(self) -> str:
        return f"{self.alias}-{datetime.datetime.now(datetime.UTC):%Y%m%d%H%M%S%f}"

    def index_definition(self, name: str) -> Index:
        index = Index(name)
        index.settings(
            number_of_shards=1,
            number_of_replicas=0,
            # The deepest page a visitor may ask for.
            max_result_window=MAX_PAGE * MAX_PAGE_SIZE,
            max_inner_result_window=max(MOMENT_CANDIDATES, MOMENTS_PER_HIT),
        )
        index.document(StoryIndexDocument)
        stamp = Mapping()
        stamp.meta("_meta", {"definition": definition_hash(index)})
        index.mapping(stamp)
        return index

    # Writing ---------------------------------------------------------------------------------------------------

    def _ensure_alias(self) -> None:
        if not self.client.indices.exists_alias(name=self.alias):
            name = self.new_index_name()
            self.index_definition(name).create(using=self.client)
            self.client.indices.put_alias(index=name, name=self.alias)

    # Each write is refreshed at once: hiding a story must reach the next search, and the archive writes a few
    # stories an hour, so the forced refresh costs nothing a visitor would notice.
    @_unavailable_when_unreachable
    def index_story(self, story) -> None:
        self._ensure_alias()
        self.client.index(index=self.alias, id=str(story.id), document=story_document(story), refresh=True)

    @_unavailable_when_unreachable
    def remove_story(self, story_id: int) -> None:
        if self.client.indices.exists_alias(name=self.alias):
            self.client.options(ignore_status=404).delete(index=self.alias, id=str(story_id), refresh=True)

    @_unavailable_when_unreachable
    def indexed_ids(self, among=None) -> set[int]:
        """The ids of the stories in the index: all of them, or those among `among`."""
        if not self._alias_exists():
            return set()
        if among is not None:
            wanted = [str(pk) for pk in among]
            if not wanted:
                return set()
            response = self.client.mget(index=self.alias, ids=wanted, source=False)
            return {int(doc["_id"]) for doc in response["docs"] if doc.get("found")}
        hits = scan(self.client, index=self.alias, query={"query": {"match_all": {}}}, _source=False)
        return {int(hit["_id"]) for hit in hits}

    @_unavailable_when_unreachable
    def rebuild(self, stories) -> int:
        """Fill a fresh index with bulk requests, then point the alias at it in one atomic step, then drop the old
        indices. Searches read the old index until the swap and the new one after it, never neither. The new index
        loads with no refresh and no replicas, then gets the replicas the live index had and is refreshed before
        the swap."""
        name = self.new_index_name()
        replicas = self._replicas_in_use()
        definition = self.index_definition(name)
        definition.settings(refresh_interval="-1", number_of_replicas=0)
        definition.create(using=self.client)
        indexed = 0

        def actions():
            nonlocal indexed
            for story in stories:
                indexed += 1
                yield {"_index": name, "_id": str(story.id), "_source": story_document(story)}

        bulk(self.client, actions(), chunk_size=500)
        # None puts the index's default refresh interval back.
        self.client.indices.put_settings(
            index=name, settings={"index": {"refresh_interval": None, "number_of_replicas": replicas}}
        )
        self.client.indices.refresh(index=name)
        self._wait_for_copies(name, replicas)
        old = list(self.client.indices.get_alias(name=self.alias).keys()) if self._alias_exists() else []
        self.client.indices.update_aliases(actions=alias_swap(self.alias, old, name))
        for stale in old:
            self.client.indices.delete(index=stale)
        return indexed

    def _replicas_in_use(self) -> int:
        """The replicas an operator gave the live index (kept across rebuilds); none before the first index."""
        if not self._alias_exists():
            return 0
        found = _body(self.client.indices.get_settings(index=self.alias, name="index.number_of_replicas"))
        return max(int(index["settings"]["index"]["number_of_replicas"]) for index in found.values())

    def _wait_for_copies(self, name: str, replicas: int) -> None:
        """Before the swap, let every copy the cluster has room for start, so the new index is as safe as the old."""
        if not replicas:
            return
        nodes = _body(self.client.cluster.health())["number_of_data_nodes"]
        # One shard (index_definition): a copy on each node, up to the replicas asked for.
        copies = 1 + min(replicas, nodes - 1)
        health = _body(self.client.cluster.health(index=name, wait_for_active_shards=str(copies), timeout="60s"))
        if health["timed_out"]:
            logger.warning("index %s: %s of %s copies started before the swap", name, health["active_shards"], copies)

    def _mapping_state(self, indices: list[str]) -> tuple[bool, str]:
        """Whether the index behind the alias was built from the definition this code builds."""
        if not indices:
            return True, "no index yet: run `search_index rebuild`"
        wanted = definition_hash(self.index_definition(self.alias))
        found = _body(self.client.indices.get_mapping(index=self.alias))
        built = {index["mappings"].get("_meta", {}).get("definition") for index in found.values()}
        if built == {wanted}:
            return False, f"current (definition {wanted})"
        return True, (
            f"rebuild needed: the index was built from definition {', '.join(sorted(map(str, built)))}, "
            f"the code builds {wanted} (run `search_index rebuild`)"
        )

    def _alias_exists(self) -> bool:
        return bool(self.client.indices.exists_alias(name=self.alias))

    # Reading ---------------------------------------------------------------------------------------------------

    @_unavailable_when_unreachable
    def search(self, query: StoryQuery) -> StorySearchResults:
        # The index holds only stories that were public when indexed; the rule runs again on the page about to be
        # shown, and a story that has left public view is taken out of this answer (hits, count and facets).
        stale: set[int] = set()
        for _attempt in range(3):
            body = search_body(query, self.alias, leave_out=stale).to_dict()
            response = _body(self.client.search(index=self.alias, body=body))
            page = [int(raw["_id"]) for raw in response["hits"]["hits"]]
            stories = visible_stories(page)
            newly_stale = set(page) - set(stories)
            if not newly_stale:
                break
            stale |= newly_stale
        return parse_response(response, query, stories=stories)

    @_unavailable_when_unreachable
    def insights(self, query: StoryQuery) -> StoryFigures:
        """Counted by the cluster's aggregations. Only stories the public may see are in the index, and hiding one
        takes it out inside the transaction that hid it (search.handlers)."""
        body = insights_body(query, self.alias).to_dict()
        return parse_insights(_body(self.client.search(index=self.alias, body=body)), query)

    @_unavailable_when_unreachable
    def texts_to_read(self, query: StoryQuery, *, per_generation: int = READ_PER_GENERATION) -> StoryTexts:
        """The stories the query matches, counted by generation, and those whose words to read: the same ones as on
        the database backend."""
        import numpy as np

        matched = {
            int(hit["_source"]["story_id"]): tuple(hit["_source"].get("generations") or ())
            for hit in scan(
                self.client,
                index=self.alias,
                query={"query": story_filter(query).to_dict()},
                _source=["story_id", "generations"],
            )
        }
        ids = np.array(sorted(matched), dtype=np.int64)
        values = sorted({slug for generations in matched.values() for slug in generations})
        column = {value: code for code, value in enumerate(values)}
        members = np.zeros((len(ids), len(values)), dtype=bool)
        for row, story_id in enumerate(ids.tolist()):
            for slug in matched[story_id]:
                members[row, column[slug]] = True
        stories = {value: int(n) for value, n in zip(values, members.sum(axis=0).tolist(), strict=True) if n}
        chosen = [int(pk) for pk in ids[stories_to_read(ids, members, per_generation)]]
        return StoryTexts(query=query, stories=stories, read={pk: matched[pk] for pk in chosen})

    @_unavailable_when_unreachable
    def story_passages(self, story_ids) -> dict[int, tuple[str, ...]]:
        """The stories' own words; the rule runs again on them first, and a story it hides has none."""
        shown = visible_story_ids(story_ids)
        forget_stale(set(story_ids) - shown)
        wanted = [str(pk) for pk in sorted(shown)]
        if not wanted:
            return {}
        found = _body(self.client.mget(index=self.alias, ids=wanted, source=["body", "segments"]))
        passages = {}
        for doc in found["docs"]:
            if doc.get("found"):
                source = doc["_source"]
                segments = sorted(source.get("segments") or [], key=lambda segment: segment["position"])
                passages[int(doc["_id"])] = (source.get("body") or "", *(segment["text"] for segment in segments))
        return passages

    @_unavailable_when_unreachable
    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        start = suggestion_start(prefix)
        if start is None or not self._alias_exists():
            return []
        candidates = _body(
            self.client.search(
                index=self.alias,
                query={"prefix": {"words": start}},
                source=False,
                size=SUGGESTION_DOCUMENTS,
            )
        )
        found = [int(raw["_id"]) for raw in candidates["hits"]["hits"]]
        # The rule again, on the stories whose words would be suggested.
        story_ids = sorted(visible_story_ids(found))
        forget_stale(set(found) - set(story_ids))
        if not story_ids:
            return []
        response = _body(self.client.search(index=self.alias, body=suggest_body(start, story_ids, limit)))
        return parse_suggestions(response)

    def status(self) -> dict:
        status = {"backend": self.name, "url": _where(self.url), "alias": self.alias}
        try:
            with _reaching(self.url):
                health = _body(self.client.cluster.health())
                status["cluster_status"] = health["status"]
                indices = list(self.client.indices.get_alias(name=self.alias).keys()) if self._alias_exists() else []
                status["indices"] = indices
                status["indexed_stories"] = self.client.count(index=self.alias)["count"] if indices else 0
                status["rebuild_needed"], status["mapping"] = self._mapping_state(indices)
                status["healthy"] = health["status"] in ("green", "yellow")
                if not status["healthy"]:
                    status["error"] = f"the cluster is {health['status']}: some of its shards have no active copy"
        except SearchUnavailable as error:
            status["healthy"] = False
            status["error"] = str(error)
        from stories.models import StoryPage

        status["public_stories"] = StoryPage.objects.visible_to_public().count()
        return status


def node_urls(url: str) -> list[str]:
    """ELASTICSEARCH_URL names one node or several, separated by commas."""
    return [node.strip() for node in url.split(",") if node.strip()]


def alias_swap(alias: str, old_indices: list[str], new_index: str) -> list[dict]:
    """One update_aliases call: readers see the old index or the new one, never neither."""
    return [
        *({"remove": {"index": old, "alias": alias}} for old in old_indices),
        {"add": {"index": new_index, "alias": alias}},
    ]


def _body(response) -> dict:
    return response.body if hasattr(response, "body") else response


def _any_stemming(words_in_order: tuple[str, ...]) -> list[str]:
    """The words as an index analysed in each language holds them: each distinct spelling once."""
    spellings = (" ".join(stem(word, analyzer) for word in words_in_order) for analyzer in QUERY_ANALYZERS)
    return list(dict.fromkeys(spellings))


def _one_of(clauses: list):
    return clauses[0] if len(clauses) == 1 else Q("bool", should=clauses, minimum_should_match=1)


def text_query(search_text: SearchText, fields: list[str], *, any_term: bool = False):
    """Every term and phrase (or any, for moments) under any language's stemming, as the database backend reads
    them. Only stems, which hold nothing but word characters, are sent, in multi_match: a visitor's text never
    becomes query syntax."""
    clauses = [
        _one_of([Q("multi_match", query=s, fields=fields, type="best_fields") for s in _any_stemming((term,))])
        for term in search_text.terms
    ]
    clauses += [
        _one_of([Q("multi_match", query=s, fields=fields, type="phrase") for s in _any_stemming(phrase)])
        for phrase in search_text.phrases
    ]
    return Q("bool", should=clauses, minimum_should_match=1) if any_term else Q("bool", must=clauses)


def _facet_filters(query: StoryQuery) -> dict:
    return {
        facet: Q("terms", **{FACET_FIELDS[facet]: list(query.selected(facet))})
        for facet in FACETS
        if query.selected(facet)
    }


def is_ranked(query: StoryQuery) -> bool:
    return bool(query.search_text) and query.sort == "relevance"


def _range_filters(query: StoryQuery) -> list:
    """The filters that are not facets: told across generations, and the recording dates."""
    shared = []
    if query.intergenerational:
        shared.append(Q("range", generation_count={"gte": 2}))
    dates = {}
    if query.recorded_from:
        dates["gte"] = query.recorded_from.isoformat()
    if query.recorded_to:
        dates["lte"] = query.recorded_to.isoformat()
    if dates:
        shared.append(Q("range", recorded_on=dates))
    return shared


def _with_seconds(aggregation):
    aggregation.metric("seconds", "sum", field="duration_seconds")
    return aggregation


def story_filter(query: StoryQuery):
    """Every story the query matches: its words, facets and ranges, all applied."""
    must = [text_query(query.search_text, STORY_FIELDS)] if query.search_text else []
    shared = _range_filters(query) + list(_facet_filters(query).values())
    return Q("bool", must=must or [Q("match_all")], filter=shared)


def insights_body(query: StoryQuery, index: str = "") -> Search:
    """Counts and summed recording lengths over every story the query matches (every filter applies): each
    dimension, each crossed pair, the quarters of the recording date, and the stories told across generations."""
    search = Search(index=index or None)
    search = search.query(story_filter(query))
    search.aggs.metric("seconds", "sum", field="duration_seconds")
    search.aggs.bucket("intergenerational", _with_seconds(A("filter", Q("range", generation_count={"gte": 2}))))
    for facet in FACETS:
        values = _with_seconds(A("terms", field=FACET_FIELDS[facet], size=FACET_SIZE))
        for row, column in CROSSED:
            if row == facet:
                values.bucket(column, _with_seconds(A("terms", field=FACET_FIELDS[column], size=FACET_SIZE)))
        search.aggs.bucket(facet, values)
    search.aggs.bucket(
        "quarter",
        _with_seconds(
            A("date_histogram", field="recorded_on", calendar_interval="quarter", format="yyyy-MM-dd", min_doc_count=1)
        ),
    )
    search.aggs.bucket("no_date", _with_seconds(A("missing", field="recorded_on")))
    search = search.extra(track_total_hits=True, size=0)
    return search


def _tally(bucket: dict) -> Tally:
    return Tally(int(bucket["doc_count"]), float(bucket.get("seconds", {}).get("value") or 0.0))


def parse_insights(response: dict, query: StoryQuery) -> StoryFigures:
    aggregations = response.get("aggregations", {})
    total = response["hits"]["total"]
    total = total["value"] if isinstance(total, dict) else int(total)
    by, crossed = {}, {pair: {} for pair in CROSSED}
    for facet in FACETS:
        by[facet] = {}
        for bucket in aggregations.get(facet, {}).get("buckets", []):
            if not bucket["key"]:
                continue  # a story without a community is counted under none
            by[facet][bucket["key"]] = _tally(bucket)
            for row, column in CROSSED:
                if row == facet:
                    for inner in bucket.get(column, {}).get("buckets", []):
                        if inner["key"]:
                            crossed[(row, column)][(bucket["key"], inner["key"])] = _tally(inner)
    quarters = {}
    for bucket in aggregations.get("quarter", {}).get("buckets", []):
        if bucket["doc_count"]:
            quarters[quarter_of(datetime.date.fromisoformat(bucket["key_as_string"]))] = _tally(bucket)
    if aggregations.get("no_date", {}).get("doc_count"):
        quarters[NO_DATE] = _tally(aggregations["no_date"])
    by["quarter"] = quarters
    return StoryFigures(
        query=query,
        total=Tally(total, float(aggregations.get("seconds", {}).get("value") or 0.0)),
        intergenerational=_tally(aggregations.get("intergenerational", {"doc_count": 0})),
        by=by,
        crossed=crossed,
    )


def search_body(query: StoryQuery, index: str = "", *, leave_out=()) -> Search:
    """The request: text, ranges and the stories to leave out in `query`; facet filters in post_filter so each
    facet's own aggregation can leave its own filter out."""
    search_text = query.search_text
    search = Search(index=index or None)
    must, shared = [], _range_filters(query)
    if search_text:
        must.append(text_query(search_text, STORY_FIELDS))
    if leave_out:
        shared.append(~Q("terms", story_id=sorted(leave_out)))
    should = []
    if search_text:
        # The segments where any of the words come up, as nested inner hits; best_moments picks the moments.
        should.append(
            Q(
                "nested",
                path="segments",
                score_mode="max",
                query=text_query(search_text, ["segments.stems"], any_term=True),
                inner_hits={"name": "moments", "size": MOMENT_CANDIDATES},
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
    # The database backend's orders: equal scores, newest id first; dates unknown last, then published, then id.
    if is_ranked(query):
        search = search.sort({"_score": {"order": "desc"}}, {"story_id": {"order": "desc"}})
    elif query.sort == "oldest":
        search = search.sort(
            {"recorded_on": {"order": "asc", "missing": "_last"}},
            {"published_at": {"order": "asc"}},
            {"story_id": {"order": "asc"}},
        )
    else:
        search = search.sort(
            {"recorded_on": {"order": "desc", "missing": "_last"}},
            {"published_at": {"order": "desc"}},
            {"story_id": {"order": "desc"}},
        )
    search = search.source(["analyzer", "summary", "body"])
    search = search.extra(track_total_hits=True)
    return search[query.offset : query.offset + query.page_size]


def suggestion_start(prefix: str) -> str | None:
    """The last word typed, folded, once it has two letters."""
    typed = words(prefix[-100:])
    if not typed or len(typed[-1]) < 2:
        return None
    return fold(typed[-1])


def suggest_body(start: str, story_ids: list[int], limit: int) -> dict:
    """The most common words starting with `start` among these stories, ties in alphabetical order."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [{"terms": {"story_id": story_ids}}]}},
        "aggs": {
            "words": {
                "terms": {
                    "field": "words",
                    # A folded word holds only word characters: nothing in it is read as a regular expression.
                    "include": f"{re.escape(start)}.*",
                    "size": limit,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
        },
    }


def parse_suggestions(response: dict) -> list[str]:
    return [bucket["key"] for bucket in response.get("aggregations", {}).get("words", {}).get("buckets", [])]


def parse_response(response: dict, query: StoryQuery, *, stories=None) -> StorySearchResults:
    """Read a search response into hits, moments and facets; snippets and moments are highlighted here, with the
    stemming the index was given, as on the database backend."""
    search_text = query.search_text
    ids, snippets, scores, moments = [], {}, {}, {}
    for raw in response["hits"]["hits"]:
        story_id = int(raw["_id"])
        source = raw.get("_source", {})
        analyzer = source.get("analyzer", DEFAULT_ANALYZER)
        ids.append(story_id)
        scores[story_id] = float(raw.get("_score") or 0.0) if is_ranked(query) else 0.0
        snippets[story_id] = story_snippet(source.get("summary", ""), source.get("body", ""), search_text, analyzer)
        segments = [
            (
                inner["_source"]["position"],
                float(inner["_source"]["start"]),
                float(inner["_source"]["end"]),
                inner["_source"]["text"],
            )
            for inner in raw.get("inner_hits", {}).get("moments", {}).get("hits", {}).get("hits", [])
        ]
        if segments and (found := best_moments(search_text, segments, analyzer)):
            moments[story_id] = found
    total = response["hits"]["total"]
    total = total["value"] if isinstance(total, dict) else int(total)
    facets = {facet: _facet_values(facet, response.get("aggregations", {}), query) for facet in FACETS}
    hits = hits_in_order(ids, snippets, scores, moments, stories=stories)
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
