"""The Elasticsearch backend without a cluster: its mapping, the requests it sends, and how it reads responses
shaped as Elasticsearch documents them. None of this has run against a live cluster."""

import datetime

from elasticsearch.dsl import Index

from search.backends.elasticsearch import (
    ElasticsearchBackend,
    alias_swap,
    parse_response,
    parse_suggestions,
    search_body,
    suggest_body,
)
from search.documents import StoryIndexDocument, story_document
from search.query import StoryQuery
from search.selectors import indexed_story
from stories.factories import PersonFactory, public_story
from stories.models import StoryPage, Visibility

from .conftest import transcribe


def mapping():
    index = Index("test")
    index.document(StoryIndexDocument)
    return index.to_dict()


def test_mapping_nests_segments_with_times_and_language_text():
    segments = mapping()["mappings"]["properties"]["segments"]
    assert segments["type"] == "nested"
    assert segments["properties"]["start"] == {"type": "float"}
    assert segments["properties"]["end"] == {"type": "float"}
    assert segments["properties"]["text_english"]["analyzer"] == "english"
    assert segments["properties"]["text_spanish"]["analyzer"] == "spanish"


def test_mapping_has_keyword_facets_and_language_analyzers():
    definition = mapping()
    properties = definition["mappings"]["properties"]
    for field in ("themes", "generations", "community", "language", "kind", "words"):
        assert properties[field] == {"type": "keyword"}
    assert properties["title_english"]["analyzer"] == "english"
    assert properties["title_spanish"]["analyzer"] == "spanish"
    assert properties["title_default"]["analyzer"] == "story_default"
    assert definition["settings"]["analysis"]["analyzer"]["story_default"]["filter"] == ["lowercase", "asciifolding"]


def test_index_names_follow_the_configured_prefix():
    backend = ElasticsearchBackend(url="http://es.invalid:9200", prefix="museum")
    assert backend.alias == "museum-stories"
    assert backend.new_index_name().startswith("museum-stories-")


def test_alias_swap_is_one_atomic_update():
    assert alias_swap("p-stories", ["p-stories-1"], "p-stories-2") == [
        {"remove": {"index": "p-stories-1", "alias": "p-stories"}},
        {"add": {"index": "p-stories-2", "alias": "p-stories"}},
    ]


def test_a_spanish_story_is_stored_in_spanish_fields():
    story = public_story(title="La vivienda", summary="Las viviendas del barrio.", language="es-MX")
    transcribe(story, [(1.0, 2.0, "Construimos casas.")])
    document = story_document(indexed_story(story.pk))
    assert document["title_spanish"] == "La vivienda"
    assert "title_english" not in document
    assert document["segments"] == [{"position": 0, "start": 1.0, "end": 2.0, "text_spanish": "Construimos casas."}]
    assert document["language"] == "es"
    assert "viviendas" in document["words"]


def test_the_stored_document_holds_nothing_private():
    person = PersonFactory(full_name="Secret Fullname", birth_year=1950)
    story = public_story(people=[person])
    document = str(story_document(indexed_story(story.pk)))
    assert "Secret Fullname" not in document
    assert "1950" not in document


def test_request_puts_facet_filters_in_post_filter_and_leaves_each_out_of_its_own_counts():
    body = search_body(StoryQuery(themes=("humane-housing",), kinds=("audio",))).to_dict()
    assert body["post_filter"] == {
        "bool": {"filter": [{"terms": {"themes": ["humane-housing"]}}, {"terms": {"kind": ["audio"]}}]}
    }
    assert body["aggs"]["theme"]["filter"] == {"bool": {"filter": [{"terms": {"kind": ["audio"]}}]}}
    assert body["aggs"]["kind"]["filter"] == {"bool": {"filter": [{"terms": {"themes": ["humane-housing"]}}]}}
    assert body["aggs"]["community"]["filter"]["bool"]["filter"] == body["post_filter"]["bool"]["filter"]
    assert body["aggs"]["generation"]["aggs"]["values"]["terms"]["field"] == "generations"


def test_request_text_is_never_read_as_query_syntax():
    body = search_body(StoryQuery(text='NOT "safe housing" hou* (x')).to_dict()
    must = body["query"]["bool"]["must"][0]["bool"]["must"]
    assert [(clause["multi_match"]["query"], clause["multi_match"]["type"]) for clause in must] == [
        ("NOT", "best_fields"),
        ("hou", "best_fields"),
        ("x", "best_fields"),
        ("safe housing", "phrase"),
    ]
    assert "query_string" not in str(body) and "simple_query_string" not in str(body)


def test_request_asks_for_moments_as_highlighted_nested_inner_hits():
    body = search_body(StoryQuery(text="housing")).to_dict()
    nested = body["query"]["bool"]["should"][0]["nested"]
    assert nested["path"] == "segments"
    assert nested["inner_hits"]["name"] == "moments"
    assert nested["inner_hits"]["size"] == 3
    assert set(nested["inner_hits"]["highlight"]["fields"]) == {
        "segments.text_english",
        "segments.text_spanish",
        "segments.text_default",
    }


def test_request_filters_sorts_and_pages():
    body = search_body(
        StoryQuery(
            intergenerational=True,
            recorded_from=datetime.date(2024, 1, 1),
            recorded_to=datetime.date(2024, 12, 31),
            sort="oldest",
            page=3,
            page_size=10,
        )
    ).to_dict()
    assert {"range": {"generation_count": {"gte": 2}}} in body["query"]["bool"]["filter"]
    assert {"range": {"recorded_on": {"gte": "2024-01-01", "lte": "2024-12-31"}}} in body["query"]["bool"]["filter"]
    assert body["sort"][0] == {"recorded_on": {"order": "asc", "missing": "_last"}}
    assert (body["from"], body["size"]) == (20, 10)


def test_suggest_request_and_response():
    assert suggest_body("a", 8) is None
    body = suggest_body("safe hou", 8)
    assert body["query"] == {"prefix": {"words": "hou"}}
    assert body["aggs"]["words"]["terms"]["include"] == "hou.*"
    response = {
        "aggregations": {"words": {"buckets": [{"key": "housing", "doc_count": 3}, {"key": "house", "doc_count": 1}]}}
    }
    assert parse_suggestions(response) == ["housing", "house"]


def documented_response(story_id, hidden_id):
    """A search response in the shape Elasticsearch's search API documents, with nested inner hits."""
    return {
        "took": 3,
        "timed_out": False,
        "hits": {
            "total": {"value": 2, "relation": "eq"},
            "max_score": 2.5,
            "hits": [
                {
                    "_index": "storyarchive-stories-1",
                    "_id": str(story_id),
                    "_score": 2.5,
                    "_source": {"story_id": story_id, "analyzer": "english", "summary_english": "About housing."},
                    "highlight": {"summary_english": ["About <mark>housing</mark> <script>x</script>."]},
                    "inner_hits": {
                        "moments": {
                            "hits": {
                                "total": {"value": 2, "relation": "eq"},
                                "max_score": 1.2,
                                "hits": [
                                    {
                                        "_index": "storyarchive-stories-1",
                                        "_id": str(story_id),
                                        "_nested": {"field": "segments", "offset": 4},
                                        "_score": 1.2,
                                        "_source": {
                                            "position": 4,
                                            "start": 400.0,
                                            "end": 405.5,
                                            "text_english": "Housing <b>is</b> home.",
                                        },
                                        "highlight": {
                                            "segments.text_english": ["<mark>Housing</mark> <b>is</b> home."]
                                        },
                                    },
                                    {
                                        "_index": "storyarchive-stories-1",
                                        "_id": str(story_id),
                                        "_nested": {"field": "segments", "offset": 1},
                                        "_score": 1.1,
                                        "_source": {
                                            "position": 1,
                                            "start": 135,
                                            "end": 141.2,
                                            "text_english": "Safe housing.",
                                        },
                                        "highlight": {"segments.text_english": ["Safe <mark>housing</mark>."]},
                                    },
                                ],
                            }
                        }
                    },
                },
                {
                    "_index": "storyarchive-stories-1",
                    "_id": str(hidden_id),
                    "_score": 1.0,
                    "_source": {"story_id": hidden_id},
                },
            ],
        },
        "aggregations": {
            "theme": {
                "doc_count": 2,
                "values": {
                    "doc_count_error_upper_bound": 0,
                    "sum_other_doc_count": 0,
                    "buckets": [{"key": "humane-housing", "doc_count": 2}],
                },
            },
            "generation": {"doc_count": 2, "values": {"buckets": [{"key": "boomers", "doc_count": 2}]}},
            "community": {"doc_count": 2, "values": {"buckets": []}},
            "language": {"doc_count": 2, "values": {"buckets": [{"key": "en", "doc_count": 2}]}},
            "kind": {"doc_count": 2, "values": {"buckets": [{"key": "audio", "doc_count": 2}]}},
        },
    }


def test_parsing_a_documented_response():
    story = public_story(title="Shown")
    hidden = public_story(title="Since made private")
    StoryPage.objects.filter(pk=hidden.pk).update(visibility=Visibility.PRIVATE)
    results = parse_response(documented_response(story.pk, hidden.pk), StoryQuery(text="housing", kinds=("video",)))
    # The visibility rule applies again: the hidden story is dropped and not counted.
    assert [hit.story.title for hit in results.hits] == ["Shown"]
    assert results.total == 1
    hit = results.hits[0]
    assert hit.score == 2.5
    assert hit.snippet == "About <mark>housing</mark> &lt;script&gt;x&lt;/script&gt;."
    assert [(m.start, m.end) for m in hit.moments] == [(135.0, 141.2), (400.0, 405.5)]
    assert isinstance(hit.moments[0].start, float)
    assert hit.moments[1].highlighted == "<mark>Housing</mark> &lt;b&gt;is&lt;/b&gt; home."
    assert [(v.value, v.label, v.count) for v in results.facets["theme"]] == [("humane-housing", "Humane housing", 2)]
    assert [(v.value, v.label) for v in results.facets["generation"]] == [("boomers", "Baby Boomers")]
    # A chosen value stays listed, with its count, even when the cluster returned no bucket for it.
    assert [(v.value, v.count, v.selected) for v in results.facets["kind"]] == [("audio", 2, False), ("video", 0, True)]


class RecordingClient:
    """Stands in for the Elasticsearch client and records the calls the backend makes."""

    def __init__(self, existing_indices=()):
        self.calls = []
        self.existing = list(existing_indices)
        self.indices = self

    def exists_alias(self, name):
        self.calls.append(("exists_alias", name))
        return bool(self.existing)

    def get_alias(self, name):
        return {index: {"aliases": {name: {}}} for index in self.existing}

    def update_aliases(self, actions):
        self.calls.append(("update_aliases", actions))

    def refresh(self, index):
        self.calls.append(("refresh", index))

    def delete(self, index, **kwargs):
        self.calls.append(("delete", index))

    def create(self, index, **kwargs):
        self.calls.append(("create", index, kwargs))

    def exists(self, index, **kwargs):
        return False

    def options(self, **kwargs):
        return self


def test_rebuild_fills_a_new_index_then_swaps_the_alias_and_drops_the_old(archive, monkeypatch):
    client = RecordingClient(existing_indices=["p-stories-old"])

    def bulk(client_used, actions, **kwargs):
        client_used.calls.append(("bulk", list(actions)))

    monkeypatch.setattr("search.backends.elasticsearch.bulk", bulk)
    backend = ElasticsearchBackend(prefix="p", client=client)
    from search.selectors import public_stories_to_index, story_for_index

    assert backend.rebuild(story_for_index(s) for s in public_stories_to_index()) == 4
    names = [call[0] for call in client.calls]
    created = next(call for call in client.calls if call[0] == "create")
    assert created[1].startswith("p-stories-")
    assert created[2]["body"]["mappings"]["properties"]["segments"]["type"] == "nested"
    assert names.index("bulk") < names.index("update_aliases") < names.index("delete")
    sent = next(call for call in client.calls if call[0] == "bulk")[1]
    assert {action["_index"] for action in sent} == {created[1]}
    assert len(sent) == 4
    swap = next(call for call in client.calls if call[0] == "update_aliases")[1]
    assert swap == [
        {"remove": {"index": "p-stories-old", "alias": "p-stories"}},
        {"add": {"index": created[1], "alias": "p-stories"}},
    ]
    assert ("delete", "p-stories-old") in client.calls
