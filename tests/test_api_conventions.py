"""What every API client can count on: one JSON error shape, unknown filter values named, a trailing slash that
leads to the address, CORS on public reads only, and documentation that loads nothing from elsewhere."""

import re
from unittest import mock

import pytest
from django.test import Client

from search.services import search_index_rebuild
from stories.factories import CommunityFactory, public_story, theme

ORIGIN = "https://a-school-project.example"


@pytest.fixture
def archive():
    riverside = CommunityFactory(name="Riverside", slug="riverside")
    return [public_story(title=f"Story {n}", community=riverside, themes=[theme("humane-housing")]) for n in range(3)]


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "errors"}
    for problem in body.get("errors", []):
        assert set(problem) == {"type", "loc", "msg"} and isinstance(problem["msg"], str)
    return body


# One error shape ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/stories?page_size=101", 422),
        ("/api/stories?page_size=lots", 422),
        ("/api/stories/abc", 422),
        ("/api/stories/0", 422),
        ("/api/stories/2147483647", 404),
        ("/api/stories?after=nowhere", 400),
        ("/api/stories?page=2", 400),
        ("/api/stories?community=nowhere", 400),
        ("/api/search?page=0", 400),
        ("/api/search?sort=random", 422),
        ("/api/search?recorded_from=yesterday", 422),
        ("/api/search?theme=nonsense", 400),
        ("/api/stories?community=a%00", 400),
        ("/api/no-such-thing", 404),
        ("/api/stories/1/2/3", 404),
    ],
)
def test_every_api_error_is_json_with_a_detail_sentence(client, archive, path, status):
    assert_error_shape(client.get(path), status)


def test_a_validation_error_says_what_is_wrong_in_detail_and_lists_each_problem(client, archive):
    body = assert_error_shape(client.get("/api/stories?page_size=101&after=" + "9" * 41), 422)

    assert {tuple(problem["loc"]) for problem in body["errors"]} == {("query", "page_size"), ("query", "after")}
    assert "“page_size”" in body["detail"] and "“after”" in body["detail"]
    assert "less than or equal to 100" in body["detail"]


def test_a_method_the_api_does_not_take_is_a_json_405(client, archive):
    body = assert_error_shape(client.post("/api/stories", {"title": "Mine"}), 405)

    assert body == {"detail": "This address answers only GET."}


def test_a_server_error_in_the_api_is_json_too(archive):
    client = Client(raise_request_exception=False)
    with mock.patch("stories.api.public_stories_listed", side_effect=RuntimeError("the disk is full")):
        response = client.get("/api/stories")

    body = assert_error_shape(response, 500)
    assert "disk" not in body["detail"]
    # Control: a page outside the API still answers its own HTML error page.
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


# Unknown filter values ------------------------------------------------------------------------------------------


def test_an_unknown_community_is_named_not_answered_with_an_empty_list(client, archive):
    body = assert_error_shape(client.get("/api/stories?community=nowhere"), 400)

    assert "community “nowhere”" in body["detail"] and "/api/communities" in body["detail"]
    assert body["errors"] == [
        {"type": "unknown_value", "loc": ["query", "community"], "msg": "There is no community “nowhere”."}
    ]
    # Control: a community the archive has answers with its stories.
    assert client.get("/api/stories?community=riverside").json()["count"] == 3


def test_search_names_every_unknown_filter_value(client, archive):
    response = client.get(
        "/api/search",
        {"theme": ["humane-housing", "nonsense"], "community": "atlantis", "generation": "millennials-ish",
         "kind": "hologram", "language": "xx-notalanguage"},
    )  # fmt: skip

    body = assert_error_shape(response, 400)
    assert {(problem["loc"][1], problem["msg"]) for problem in body["errors"]} == {
        ("theme", "There is no theme “nonsense”."),
        ("community", "There is no community “atlantis”."),
        ("generation", "There is no generation “millennials-ish”."),
        ("kind", "There is no kind “hologram”."),
        ("language", "There is no language “xx-notalanguage”."),
    }
    for value in ("nonsense", "atlantis", "millennials-ish", "hologram", "xx-notalanguage"):
        assert value in body["detail"]
    assert "humane-housing" not in body["detail"]


def test_search_takes_known_values_even_when_no_public_story_has_them(client, archive):
    search_index_rebuild()
    response = client.get(
        "/api/search", {"theme": "lifelong-learning", "community": "riverside", "generation": "gen-z", "kind": "video",
                        "language": "es"},
    )  # fmt: skip

    assert response.status_code == 200 and response.json()["count"] == 0
    assert client.get("/api/search", {"theme": "humane-housing"}).json()["count"] == 3


# Trailing slashes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/stories/", "/api/stories"),
        ("/api/stories/?community=riverside&page_size=2", "/api/stories?community=riverside&page_size=2"),
        ("/api/communities/", "/api/communities"),
        ("/api/dialogues/", "/api/dialogues"),
        ("/api/search/?q=home", "/api/search?q=home"),
        ("/api/docs/", "/api/docs"),
    ],
)
def test_a_trailing_slash_leads_to_the_address_without_it(client, archive, path, location):
    response = client.get(path)

    assert response.status_code == 308 and response["Location"] == location
    assert client.get(path, follow=True).status_code == 200


def test_a_trailing_slash_on_a_story_leads_to_the_story(client, archive):
    story = archive[0]

    response = client.get(f"/api/stories/{story.pk}/", follow=True)

    assert response.status_code == 200 and response.json()["id"] == story.pk


def test_an_address_the_api_does_not_have_is_not_sent_around(client, archive):
    body = assert_error_shape(client.get("/api/nowhere/"), 404)

    assert "/api/docs" in body["detail"]
    assert_error_shape(client.get("/api/nowhere"), 404)


# CORS -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/stories", "/api/communities", "/api/dialogues", "/api/search?q=story", "/api/openapi.json"]
)
def test_public_reads_may_be_made_from_any_site(client, archive, path):
    response = client.get(path, headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_a_story_and_an_api_error_may_be_read_from_any_site(client, archive):
    story = client.get(f"/api/stories/{archive[0].pk}", headers={"Origin": ORIGIN})
    refused = client.get("/api/stories?community=nowhere", headers={"Origin": ORIGIN})

    assert story["Access-Control-Allow-Origin"] == "*"
    assert refused.status_code == 400 and refused["Access-Control-Allow-Origin"] == "*"


def test_a_browser_may_ask_before_a_get_but_not_before_a_write(client, archive):
    before_get = client.options("/api/stories", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    before_post = client.options("/api/stories", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})

    assert before_get["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in before_get["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in before_post


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/stories"),
        ("post", "/api/search"),
        ("get", "/admin/"),
        ("get", "/admin/login/"),
        ("post", "/admin/login/"),
        ("get", "/django-admin/"),
        ("get", "/stories/"),
    ],
)
def test_no_cors_header_outside_the_apis_public_reads(client, archive, method, path):
    """Named negative test: the admin, forms and any write never tell a browser another site may read them."""
    response = getattr(client, method)(path, headers={"Origin": ORIGIN})

    assert "Access-Control-Allow-Origin" not in response, f"{method.upper()} {path}"


# Documentation offline ------------------------------------------------------------------------------------------


def test_the_api_docs_load_only_from_the_archive(client):
    response = client.get("/api/docs")

    html = response.content.decode()
    assert response.status_code == 200
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert addresses, "control: the page loads its assets"
    assert all(address.startswith("/static/ninja/") for address in addresses), addresses
    assert "http://" not in html and "https://" not in html
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise fetch a badge from another site
    for address in addresses:
        asset = client.get(address)
        assert asset.status_code == 200, address
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_long_unknown_value_is_named_but_not_echoed_whole(client, archive):
    body = assert_error_shape(client.get("/api/stories", {"community": "x" * 5000}), 400)

    assert "x" * 100 in body["detail"] and "x" * 101 not in body["detail"]
    assert "x" * 101 not in body["errors"][0]["msg"]
