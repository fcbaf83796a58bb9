"""Named negative tests: hostile parameters get a 4xx with a message, never a server error, on every database.

Out-of-range integers overflow SQLite's and PostgreSQL's integer columns; a NUL byte is refused by PostgreSQL's text
type. Each case here was a 500 before it was refused at the door.
"""

import pytest
from django.urls import reverse

from stories.factories import CommunityFactory, public_story, theme
from stories.models import ShareUpload

from .stories.test_intake_support import fresh_rate_limits, make_invite, share_data, share_url  # noqa: F401

FORTY_DIGITS = "9" * 40
NUL = "%00"
UNREADABLE = "holds a character the archive cannot read"


@pytest.fixture
def archive():
    """A few public stories in one community, so every listing has something to page through."""
    riverside = CommunityFactory(name="Riverside", slug="riverside")
    return [
        public_story(title=f"Story {n}", community=riverside, themes=[theme("lifelong-learning")]) for n in range(3)
    ]


def test_a_place_of_forty_digits_is_refused_by_the_story_list(client, archive):
    response = client.get(f"/api/stories?after={FORTY_DIGITS}.1")

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "after"]
    response = client.get(f"/api/stories?after={FORTY_DIGITS[:30]}.1")
    assert response.status_code == 400 and "place in this list" in response.json()["detail"]
    assert client.get("/api/stories?page_size=2").json()["count"] == 3


def test_a_page_size_past_the_bound_is_refused_by_the_story_list(client, archive):
    assert client.get(f"/api/stories?page_size={FORTY_DIGITS}").status_code == 422
    assert client.get("/api/stories?page_size=101").status_code == 422
    assert len(client.get("/api/stories?page_size=2").json()["items"]) == 2


def test_a_story_id_beyond_any_page_id_is_refused(client, archive):
    response = client.get("/api/stories/99999999999999999999")

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "story_id"]
    assert client.get(f"/api/stories/{2**31 - 1}").status_code == 404
    assert client.get(f"/api/stories/{archive[0].pk}").status_code == 200


def test_search_pages_past_the_bound_are_refused(client, archive):
    api = client.get(f"/api/search?page={FORTY_DIGITS}")
    assert api.status_code == 400
    assert api.json() == {"detail": "page must be between 1 and 500."}
    assert client.get(f"/api/search?page_size={FORTY_DIGITS}").status_code == 400
    page = client.get(f"/search/?page={FORTY_DIGITS}")
    assert page.status_code == 400
    assert "page must be between 1 and" in page.content.decode()


@pytest.mark.parametrize(
    "path",
    [f"/stories/?page={FORTY_DIGITS}", f"/communities/riverside/?page={FORTY_DIGITS}"]
    + [f"/themes/lifelong-learning/?page={FORTY_DIGITS}"],
)
def test_a_listing_asked_for_a_page_of_forty_digits_shows_its_last_page(client, archive, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "Story 0" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/stories?community=river{NUL}side",
        f"/api/search?community=river{NUL}side",
        f"/search/?community=river{NUL}side",
        f"/communities/river{NUL}side/",
    ],
)
def test_a_nul_byte_in_a_community_is_refused(client, archive, path):
    response = client.get(path)

    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/search?theme=lifelong{NUL}-learning",
        f"/search/?theme=lifelong{NUL}-learning",
        f"/themes/lifelong{NUL}-learning/",
    ],
)
def test_a_nul_byte_in_a_theme_is_refused(client, archive, path):
    response = client.get(path)

    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/share/{token}/", "/my-story/{token}/", "/my-story/{token}/recording", "/my-story/{token}/transcript.txt"]
)
def test_a_nul_byte_in_a_share_or_manage_token_is_refused(client, path):
    invite = make_invite()

    response = client.get(path.format(token=f"{invite.token[:8]}{NUL}{invite.token[8:]}"))

    assert response.status_code == 400
    assert "The address holds a character the archive cannot read" in response.content.decode()
    assert client.get(share_url(invite)).status_code == 200


def test_a_nul_byte_in_a_token_refuses_the_upload_before_anything_is_kept(client):
    invite = make_invite()

    response = client.post(f"/share/{invite.token}{NUL}/uploads/", headers={"Upload-Length": "100"})

    assert response.status_code == 400
    assert not ShareUpload.objects.exists()


def test_a_nul_byte_in_an_uploads_file_name_is_dropped_from_its_label(client):
    """The file name is only a label: the upload goes on, and the label keeps the printable characters."""
    invite = make_invite()

    response = client.post(
        reverse("stories:share-uploads", args=[invite.token]),
        headers={"Upload-Length": "100", "Upload-Filename": f"grand{NUL}ma.wav"},
    )

    assert response.status_code == 201
    assert ShareUpload.objects.get().original_filename == "grandma.wav"


def test_a_nul_byte_in_a_share_form_field_is_refused_and_nothing_is_kept(client):
    from stories.models import StoryPage

    invite = make_invite()

    response = client.post(share_url(invite), share_data(title="The garden\x00on Elm Street"))

    assert response.status_code == 400
    assert "The form field “title” holds a character the archive cannot read" in response.content.decode()
    assert not StoryPage.objects.filter(title__startswith="The garden").exists()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/search?q=garden{NUL}",
        f"/api/search/suggest?q=gar{NUL}",
        f"/search/?q=garden{NUL}",
        f"/stories/story-0/?t=1{NUL}",
        f"/stories/story{NUL}-0/",
        f"/recordings/00000000-0000-0000-0000-000000000000/access{NUL}",
        f"/sitemap.xml?p=1{NUL}",
    ],
)
def test_a_nul_byte_anywhere_else_in_a_public_address_is_refused(client, archive, path):
    response = client.get(path)

    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()


def test_an_api_refusal_is_json_and_a_page_refusal_is_a_page(client, archive):
    api = client.get(f"/api/stories?community=a{NUL}")
    page = client.get(f"/search/?community=a{NUL}")

    assert api["Content-Type"] == "application/json"
    assert api.json() == {
        "detail": "The query parameter “community” holds a character the archive cannot read "
        "(a NUL byte or a broken character)."
    }
    assert page["Content-Type"].startswith("text/html")
    assert "We could not read that request" in page.content.decode()


def test_broken_utf8_is_read_as_replacement_characters_not_a_server_error(client, archive):
    assert client.get("/api/search?q=%ED%A0%80").status_code == 200
    assert client.get("/search/?q=%ED%A0%80").status_code == 200
    unknown = client.get("/api/stories?community=%ED%A0%80")
    assert unknown.status_code == 400 and "community “\N{REPLACEMENT CHARACTER}" in unknown.json()["detail"]


def test_the_schema_states_the_bounds_and_the_error_responses(client):
    schema = client.get("/api/openapi.json").json()

    def parameter(path, name):
        operation = schema["paths"][path]["get"]
        return next(p for p in operation["parameters"] if p["name"] == name)["schema"]

    assert parameter("/api/stories", "after")["anyOf"][0]["maxLength"] == 40
    assert (parameter("/api/stories", "page_size")["minimum"], parameter("/api/stories", "page_size")["maximum"]) == (
        1,
        100,
    )
    assert parameter("/api/stories/{story_id}", "story_id")["maximum"] == 2**31 - 1
    assert parameter("/api/search", "page")["maximum"] == 500
    assert parameter("/api/search", "page_size")["maximum"] == 100
    # The API's own operations; the IIIF manifests listed beside them answer only 200 or 404 (iiif/openapi.py).
    for path, operation in schema["paths"].items():
        if path.startswith("/api/"):
            assert {"400", "422"} <= set(operation["get"]["responses"]), path
    assert "404" in schema["paths"]["/api/stories/{story_id}"]["get"]["responses"]
