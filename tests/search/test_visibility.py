"""Named negative tests: a story the public may not see never shows in /search/, /api/search or suggestions,
neither when it is indexed after being hidden nor when it is hidden after being indexed."""

import datetime

import pytest
from django.utils import timezone
from wagtail.models import PageViewRestriction

from search.models import StoryDocument
from search.services import search_index_rebuild, story_index_refresh
from stories.factories import PersonFactory, public_story
from stories.models import Consent, StoryPage, Visibility

MARKER = "zanzibarquokka"


def hide_private(story):
    StoryPage.objects.filter(pk=story.pk).update(visibility=Visibility.PRIVATE)


def hide_facilitators_only(story):
    StoryPage.objects.filter(pk=story.pk).update(visibility=Visibility.FACILITATORS)


def hide_draft(story):
    StoryPage.objects.filter(pk=story.pk).update(live=False)


def hide_withdrawn(story):
    StoryPage.objects.filter(pk=story.pk).update(withdrawn_at=timezone.now())


def hide_embargoed(story):
    StoryPage.objects.filter(pk=story.pk).update(embargo_until=timezone.localdate() + datetime.timedelta(days=30))


def hide_unconsented(story):
    Consent.objects.filter(story=story).delete()


def hide_consent_withdrawn(story):
    Consent.objects.filter(story=story).update(withdrawn_at=timezone.now())


def hide_minor_without_guardian(story):
    Consent.objects.filter(story=story).update(guardian_name="", guardian_consented_on=None)


def hide_behind_password(story):
    PageViewRestriction.objects.create(page=story, restriction_type=PageViewRestriction.PASSWORD, password="elders")


def hide_section_behind_login(story):
    """Wagtail's privacy setting on the page above: every story in that section leaves public view."""
    PageViewRestriction.objects.create(page=story.get_parent(), restriction_type=PageViewRestriction.LOGIN)


HIDING = [
    hide_private,
    hide_facilitators_only,
    hide_draft,
    hide_withdrawn,
    hide_embargoed,
    hide_unconsented,
    hide_consent_withdrawn,
    hide_minor_without_guardian,
    hide_behind_password,
    hide_section_behind_login,
]


def marked_story():
    # A minor, so that dropping the guardian's consent is one of the ways to hide it.
    return public_story(
        title=f"The {MARKER} story",
        summary=f"Told about the {MARKER}.",
        people=[PersonFactory(birth_year=2012)],
        community__name="Hidden Hollow",
    )


def assert_nowhere_public(client):
    page = client.get("/search/", {"q": MARKER}).content.decode()
    # The page repeats what was typed; the story's own words must not appear.
    assert f"The {MARKER} story" not in page
    assert "Told about the" not in page
    assert "Hidden Hollow" not in page
    assert "search-hit" not in page
    assert MARKER not in client.get("/search/").content.decode()
    api = client.get("/api/search", {"q": MARKER}).json()
    assert api["count"] == 0 and api["results"] == []
    everything = client.get("/api/search").json()
    assert MARKER not in str(everything)
    assert "hidden-hollow" not in str(everything["facets"])
    assert client.get("/api/search/suggest", {"q": MARKER[:5]}).json()["suggestions"] == []


def test_the_marked_story_is_found_while_public(client):
    """The control: without hiding, the same checks find the marker, so the negative tests below mean something."""
    marked_story()
    search_index_rebuild()
    assert MARKER in client.get("/search/", {"q": MARKER}).content.decode()
    assert client.get("/api/search", {"q": MARKER}).json()["count"] == 1
    assert client.get("/api/search/suggest", {"q": MARKER[:5]}).json()["suggestions"] == [MARKER]


@pytest.mark.parametrize("hide", HIDING, ids=lambda f: f.__name__)
def test_a_hidden_story_is_never_indexed(client, hide):
    story = marked_story()
    hide(story)
    search_index_rebuild()
    assert not StoryDocument.objects.filter(pk=story.pk).exists()
    assert story_index_refresh(story_id=story.pk) == "removed"
    assert_nowhere_public(client)


@pytest.mark.parametrize("hide", HIDING, ids=lambda f: f.__name__)
def test_a_story_hidden_after_indexing_is_filtered_out_at_query_time(client, hide):
    story = marked_story()
    search_index_rebuild()
    assert StoryDocument.objects.filter(pk=story.pk).exists()
    hide(story)  # no signal, no reindex: the query-time rule alone must hide it
    assert_nowhere_public(client)
    # Having met it, search queued its removal (the test task backend runs it at once).
    assert not StoryDocument.objects.filter(pk=story.pk).exists()


def test_a_view_restriction_added_after_a_search_hides_the_story_at_once(client, django_capture_on_commit_callbacks):
    """The rule's queryset is kept between searches; a restriction made after it was built must still count."""
    story = marked_story()
    search_index_rebuild()
    assert client.get("/api/search", {"q": MARKER}).json()["count"] == 1
    # The restriction is saved without letting its refresh run, so the search's own check is all that stands guard.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        hide_section_behind_login(story)
    assert queued, "a new view restriction queues a refresh of the stories under it"
    assert_nowhere_public(client)


def test_a_view_restriction_queues_its_stories_out_of_the_index_and_back(django_capture_on_commit_callbacks):
    story = marked_story()
    search_index_rebuild()
    with django_capture_on_commit_callbacks(execute=True):
        restriction = PageViewRestriction.objects.create(
            page=story.get_parent(), restriction_type=PageViewRestriction.LOGIN
        )
    assert not StoryDocument.objects.filter(pk=story.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    assert StoryDocument.objects.filter(pk=story.pk).exists()
