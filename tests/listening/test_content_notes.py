"""Content notes: told before a story plays or is read, beside its title wherever it is listed, kept by administrators."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from search.services import search_index_rebuild
from stories.factories import public_story, theme
from stories.models import ContentNote, StoryPage

from .conftest import story_with_transcript

LINES = [(0.0, 4.0, "My brother did not come home from the mill."), (4.0, 8.0, "We waited all night.")]


@pytest.fixture
def grief():
    """One of the notes a new archive starts with (the migration seeds it), in words of this test's own."""
    note, _ = ContentNote.objects.update_or_create(
        slug="grief-and-loss", defaults={"name": "Grief and loss", "description": "The storytellers speak of a death."}
    )
    return note


def noted(story: StoryPage, *notes: ContentNote) -> StoryPage:
    story.content_notes.set(notes)
    story.save()  # a ParentalManyToManyField is written when the page is saved
    return story


def story_content(html: str) -> str:
    """The tag that holds the player, the transcript and the written story."""
    return re.search(r"<div id=\"story-content\"[^>]*>", html).group(0)


def test_a_story_with_notes_tells_them_before_the_player_and_transcript_and_holds_them_back(client, grief):
    story, _ = story_with_transcript(LINES, title="The mill")
    noted(story, grief)

    html = client.get(story.url, {"t": "4"}).content.decode()

    html = html[html.index("<body") :]  # the head's JSON-LD carries the transcript for machines, not visitors
    notes_at = html.index('id="content-notes-title"')
    assert "Grief and loss" in html and "The storytellers speak of a death." in html
    assert notes_at < html.index('id="player"') and notes_at < html.index("We waited all night.")
    assert "hidden" in story_content(html), "the player and transcript wait behind the notes"
    continue_link = re.search(r'href="([^"]+)" data-continue', html).group(1).replace("&amp;", "&")
    assert continue_link == "?t=4&continue=1#story-content", "continuing keeps the moment the link asked for"


def test_continuing_without_javascript_shows_the_story_with_its_notes_still_named(client, grief):
    story, _ = story_with_transcript(LINES, title="The mill")
    noted(story, grief)

    html = client.get(story.url, {"t": "4", "continue": "1"}).content.decode()

    assert "hidden" not in story_content(html)
    assert "data-continue" not in html
    assert "Grief and loss" in html
    assert 'data-start="4"' in html


def test_control_a_story_without_notes_plays_at_once(client, grief):
    story, _ = story_with_transcript(LINES, title="The mill")

    html = client.get(story.url).content.decode()

    assert "content-notes-title" not in html and "Grief and loss" not in html
    assert "hidden" not in story_content(html)


def test_a_written_story_waits_behind_its_notes_too(client, grief):
    story = noted(public_story(title="Letters home"), grief)

    html = client.get(story.url).content.decode()

    assert "hidden" in story_content(html)
    assert html.index('id="content-notes-title"') < html.index('id="story-content"')


def test_lists_search_and_the_api_name_the_notes_beside_the_title(client, grief):
    housing = theme("humane-housing")
    with_notes = noted(public_story(title="The mill", themes=[housing], community__name="Mill Creek"), grief)
    without = public_story(title="The harvest", themes=[housing], community=with_notes.community)
    search_index_rebuild()
    pages = {
        "story index": StoryPage.objects.get(pk=with_notes.pk).get_parent().url,
        "home": "/",
        "theme": housing.get_absolute_url(),
        "community": with_notes.community.get_absolute_url(),
        "search": reverse("search:search") + "?q=mill",
        "related stories": without.url,
    }

    for where, url in pages.items():
        html = client.get(url).content.decode()
        assert re.search(r"The mill</a></h3>\s*<p class=\"content-notes-line\">.*Grief and loss", html), where

    found = {hit["title"]: hit["content_notes"] for hit in client.get("/api/search", {"q": "mill"}).json()["results"]}
    assert found == {"The mill": [{"slug": "grief-and-loss", "name": "Grief and loss"}], "The harvest": []}
    listed = {story["title"]: story["content_notes"] for story in client.get("/api/stories").json()["items"]}
    assert listed == {"The mill": [{"slug": "grief-and-loss", "name": "Grief and loss"}], "The harvest": []}


def test_a_list_reads_every_storys_notes_in_one_query(client, grief):
    violence, _ = ContentNote.objects.get_or_create(slug="violence", defaults={"name": "Violence"})
    index_url = noted(public_story(title="Story 0"), grief).get_parent().url

    def queries_for_the_index() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(index_url).status_code == 200
        return len(queries)

    few = queries_for_the_index()
    for n in range(1, 12):
        noted(public_story(title=f"Story {n}"), grief, violence)

    assert queries_for_the_index() == few


def test_administrators_keep_the_list_and_facilitators_only_read_it(client, admin_client, facilitator, grief):
    add = reverse("wagtailsnippets_stories_contentnote:add")
    edit = reverse("wagtailsnippets_stories_contentnote:edit", args=[grief.pk])
    client.force_login(facilitator)

    assert client.get(reverse("wagtailsnippets_stories_contentnote:list")).status_code == 200
    assert client.get(add).status_code == 302 and client.get(edit).status_code == 302  # to the admin's "no access"
    client.post(edit, {"name": "Changed", "slug": "changed", "description": ""})
    assert ContentNote.objects.get(pk=grief.pk).name == "Grief and loss"

    admin_client.post(add, {"name": "Forced moves", "slug": "forced-moves", "description": "Evictions, displacement."})
    assert ContentNote.objects.filter(slug="forced-moves").exists()
