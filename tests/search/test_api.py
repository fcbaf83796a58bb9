"""GET /api/search and /api/search/suggest: the documented JSON shape, and clear 4xx answers for bad parameters."""

import pytest

from search.selectors import indexed_story
from search.services import story_index_refresh
from stories.factories import PersonFactory, public_story
from stories.models import StoryMedia, StoryPage, StoryParticipant
from tests.search.conftest import ELDER_YEAR, MIDDLE_YEAR, YOUTH_YEAR


def test_search_returns_the_documented_shape(client, archive):
    response = client.get("/api/search", {"q": "housing"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "results", "facets"}
    assert set(body["facets"]) == {"theme", "generation", "community", "language", "kind"}
    hit = next(h for h in body["results"] if h["title"] == "The house on Elm Street")
    assert set(hit) == {
        "id", "title", "url", "summary", "snippet", "score", "kind", "language", "community", "themes",
        "content_notes", "generations", "moments",
    }  # fmt: skip
    assert hit["url"].startswith("http://testserver/")
    assert hit["community"] == {"slug": "riverside", "name": "Riverside"}
    assert hit["themes"] == [{"slug": "humane-housing", "name": "Humane housing"}]
    assert {g["slug"] for g in hit["generations"]} == {"boomers", "gen-z"}
    moment = next(m for m in hit["moments"] if m["start"] == 135.0)
    assert moment == {
        "start": 135.0,
        "end": 141.2,
        "text": "We needed safe housing after the flood.",
        "highlighted": "We needed safe <mark>housing</mark> after the flood.",
    }
    assert all(set(v) == {"value", "label", "count"} for values in body["facets"].values() for v in values)


def test_each_hit_shows_what_its_story_page_shows(client, archive):
    """Hits are read from the stories as the search runs, without loading pages: the link, kind, themes and
    generations a visitor sees in a hit are the ones the story's own page shows."""
    hits = {hit["id"]: hit for hit in client.get("/api/search").json()["results"]}
    assert set(hits) == {story.pk for story in archive.values()}
    for story in StoryPage.objects.filter(pk__in=hits):
        hit = hits[story.pk]
        assert hit["url"] == f"http://testserver{story.url}"
        assert hit["kind"] == story.kind
        assert hit["language"] == story.language
        assert hit["themes"] == [{"slug": t.slug, "name": t.name} for t in story.themes.order_by("name")]
        assert [g["slug"] for g in hit["generations"]] == [g.slug for g in story.generations]
    assert hits[archive["written"].pk]["kind"] == "text"
    assert hits[archive["housing"].pk]["kind"] == "audio"
    assert [t["name"] for t in hits[archive["bus"].pk]["themes"]] == ["Lifelong learning", "Reliable transportation"]
    assert [g["slug"] for g in hits[archive["spanish"].pk]["generations"]] == ["boomers", "gen-x"]

    StoryMedia.objects.filter(pk=archive["housing"].recording_id).update(video_codec="h264")
    hits = {hit["id"]: hit for hit in client.get("/api/search").json()["results"]}
    assert hits[archive["housing"].pk]["kind"] == "video"


def test_a_storys_generations_follow_its_participants_order_on_every_path(client, archive):
    """StoryPage.generations, the story API (list and detail), the search index and search hits list a story's
    generations in the order its participants are listed (not by age, nor by when they were added), each once."""
    elder, youth, middle, second_youth = (
        PersonFactory(birth_year=ELDER_YEAR),
        PersonFactory(birth_year=YOUTH_YEAR),
        PersonFactory(birth_year=MIDDLE_YEAR),
        PersonFactory(birth_year=YOUTH_YEAR + 1),
    )
    story = public_story(title="Three generations at the table", people=[elder, youth, middle, second_youth])
    listed_order = {youth: 0, second_youth: 1, elder: 2, middle: 3}  # a facilitator reordered them in the admin
    for person, place in listed_order.items():
        StoryParticipant.objects.filter(page=story, person=person).update(sort_order=place)
    story_index_refresh(story_id=story.pk)
    expected = ["gen-z", "boomers", "gen-x"]

    page = StoryPage.objects.get(pk=story.pk)
    assert [g.slug for g in page.generations] == expected
    listed = next(s for s in client.get("/api/stories", {"page_size": 100}).json()["items"] if s["id"] == story.pk)
    assert [g["slug"] for g in listed["generations"]] == expected
    detail = client.get(f"/api/stories/{story.pk}").json()
    assert [g["slug"] for g in detail["generations"]] == expected
    assert [p["generation"]["slug"] for p in detail["participants"]] == ["gen-z", "gen-z", "boomers", "gen-x"]
    assert [slug for slug, _ in indexed_story(story.pk).generations] == expected
    [hit] = client.get("/api/search", {"q": "Three generations"}).json()["results"]
    assert [g["slug"] for g in hit["generations"]] == expected


def test_repeatable_slug_parameters(client, archive):
    body = client.get("/api/search?theme=humane-housing&theme=reliable-transportation&community=riverside").json()
    assert {h["title"] for h in body["results"]} == {"The house on Elm Street", "Riding the number 9 bus"}


def test_intergenerational_dates_sort_and_paging(client, archive):
    body = client.get(
        "/api/search",
        {"intergenerational": "true", "recorded_from": "2023-01-01", "sort": "oldest", "page_size": 1, "page": 2},
    ).json()
    assert body["count"] == 2
    assert [h["title"] for h in body["results"]] == ["The house on Elm Street"]


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"page": "abc"}, 422, "page"),
        ({"page": "0"}, 400, "page must be between"),
        ({"page_size": "1000"}, 400, "page_size must be between"),
        ({"sort": "random"}, 422, "sort"),
        ({"recorded_from": "yesterday"}, 422, "recorded_from"),
        ({"recorded_from": "2025-01-01", "recorded_to": "2024-01-01"}, 400, "recorded_from must not be after"),
        ({"intergenerational": "perhaps"}, 422, "intergenerational"),
    ],
)
def test_bad_parameters_get_a_clear_4xx(client, archive, params, status, words):
    response = client.get("/api/search", params)
    assert response.status_code == status
    assert words in str(response.json()["detail"])


@pytest.mark.parametrize("typed", ['"' * 5000, "x" * 20000, "AND OR NOT NEAR * ^ : ( ) -", "<script>"])
def test_hostile_text_is_answered(client, archive, typed):
    assert client.get("/api/search", {"q": typed}).status_code == 200
    assert client.get("/api/search/suggest", {"q": typed}).status_code == 200


def test_suggest_completes_a_word(client, archive):
    body = client.get("/api/search/suggest", {"q": "safe hou"}).json()
    assert body["query"] == "safe hou"
    assert "housing" in body["suggestions"]


def test_search_is_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/search" in paths
    assert "/api/search/suggest" in paths
    names = {p["name"] for p in paths["/api/search"]["get"]["parameters"]}
    assert {"q", "theme", "generation", "community", "language", "kind", "intergenerational"} <= names
