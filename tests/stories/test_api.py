"""GET /api/stories and /api/stories/{id}: public stories only, and never a full name or birth year."""

import pytest

from stories.factories import CommunityFactory, PersonFactory, StoryPageFactory, public_story, theme
from stories.models import Visibility


def test_list_shows_public_stories_with_their_facts(client):
    elder = PersonFactory(display_name="Rosa M.", full_name="Rosa Maria Secretname", birth_year=1948)
    youth = PersonFactory(display_name="Jay T.", birth_year=2011)
    story = public_story(title="The garden", people=[elder, youth], themes=[theme("thriving-natural-world")])

    response = client.get("/api/stories")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == story.id
    assert item["title"] == "The garden"
    assert item["url"].endswith("/stories/the-garden/")
    assert item["kind"] == "text"
    assert item["themes"] == [{"slug": "thriving-natural-world", "name": "Thriving natural world"}]
    assert [g["slug"] for g in item["generations"]] == ["boomers", "gen-z"]
    assert "Secretname" not in response.content.decode()
    assert "1948" not in response.content.decode()


def test_list_filters_by_community(client):
    public_story(title="Here", community=CommunityFactory(name="Riverside"))
    public_story(title="There", community=CommunityFactory(name="Hillside"))

    titles = [item["title"] for item in client.get("/api/stories?community=riverside").json()["items"]]

    assert titles == ["Here"]


def test_detail_names_participants_by_display_name_only(client):
    person = PersonFactory(display_name="Rosa M.", full_name="Rosa Maria Secretname", birth_year=1948)
    story = public_story(people=[person])

    response = client.get(f"/api/stories/{story.id}")

    assert response.status_code == 200
    participant = response.json()["participants"][0]
    assert participant == {
        "display_name": "Rosa M.",
        "role": "storyteller",
        "generation": {"slug": "boomers", "label": "Baby Boomers"},
    }
    assert "Secretname" not in response.content.decode() and "1948" not in response.content.decode()


@pytest.mark.parametrize(
    "make_story",
    [
        lambda: public_story(visibility=Visibility.PRIVATE),
        lambda: public_story(visibility=Visibility.FACILITATORS),
        lambda: StoryPageFactory(participants=[PersonFactory()]),  # no consent on record
    ],
    ids=["private", "facilitators-only", "unconsented"],
)
def test_hidden_story_is_absent_from_list_and_detail(client, make_story):
    story = make_story()

    assert client.get("/api/stories").json()["count"] == 0
    assert client.get(f"/api/stories/{story.id}").status_code == 404


def test_schema_is_published(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/stories" in schema["paths"]
    assert "/api/stories/{story_id}" in schema["paths"]


def test_a_page_number_is_refused_with_the_way_to_page_now(client):
    """Pages are reached by `next` and `previous`: a client still sending numbers is told, not given page 1 forever."""
    for page in ("2", "abc"):
        response = client.get("/api/stories", {"page": page})
        assert response.status_code == 400
        assert "follow each answer's `next`" in response.json()["detail"]


def test_a_place_no_list_handed_out_gets_a_clear_answer(client):
    for place in ("abc", "12", "1.2.3", "9" * 30 + ".1"):
        response = client.get("/api/stories", {"after": place})
        assert response.status_code in (400, 422), place
        assert "after" in response.content.decode() or "place in this list" in response.json()["detail"]
