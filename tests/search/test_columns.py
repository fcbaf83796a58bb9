"""The database backend's in-memory facet columns follow every write to the index, story by story, and never
describe rows the database no longer holds."""

import pytest
from django.db import transaction

from search import columns
from search.backends import get_search_backend
from search.models import IndexChange
from search.query import StoryQuery
from search.selectors import indexed_story
from search.services import search_index_rebuild, story_index_refresh
from stories.factories import PersonFactory, public_story, theme
from stories.models import StoryPage


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.ELASTICSEARCH_URL = ""


def theme_counts(**fields):
    results = get_search_backend().search(StoryQuery(**fields))
    return results.total, {value.value: value.count for value in results.facets["theme"]}


@pytest.fixture
def no_full_load(monkeypatch):
    """Fail the test if a search has to load every story again instead of catching up on the changes."""

    def refuse():
        raise AssertionError("the columns were loaded in full")

    def arm():
        monkeypatch.setattr(columns, "load", refuse)

    return arm


def test_a_newly_indexed_story_counts_at_once_without_a_full_load(archive, no_full_load):
    total, counts = theme_counts()
    no_full_load()
    story = public_story(title="Bridges", themes=[theme("reliable-transportation")], people=[PersonFactory()])
    story_index_refresh(story_id=story.pk)
    assert theme_counts() == (total + 1, {**counts, "reliable-transportation": counts["reliable-transportation"] + 1})


def test_a_removed_story_stops_counting_at_once(archive, no_full_load):
    total, counts = theme_counts(text="bus")
    assert total == 1
    no_full_load()
    StoryPage.objects.filter(pk=archive["bus"].pk).update(withdrawn_at="2026-01-01T00:00Z")
    story_index_refresh(story_id=archive["bus"].pk)
    assert theme_counts(text="bus") == (0, {})
    assert "reliable-transportation" not in theme_counts()[1]


def test_a_changed_theme_moves_the_story_between_counts(archive, no_full_load):
    _, before = theme_counts()
    no_full_load()
    bus = archive["bus"]
    bus.themes.set([theme("basic-needs")])
    bus.save()
    story_index_refresh(story_id=archive["bus"].pk)
    _, after = theme_counts()
    assert after.get("basic-needs", 0) == before.get("basic-needs", 0) + 1
    assert after.get("reliable-transportation", 0) == before["reliable-transportation"] - 1


def test_a_rebuild_is_read_in_full(archive):
    theme_counts()
    search_index_rebuild()
    assert list(IndexChange.objects.values_list("story_id", flat=True)) == [None]
    assert theme_counts()[0] == 4


def test_a_rolled_back_write_leaves_no_trace_in_the_counts(archive):
    before = theme_counts()
    extra = public_story(title="Never kept", themes=[theme("basic-needs")], people=[PersonFactory()])
    record = indexed_story(extra.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        get_search_backend().index_story(record)
        # Searched inside the transaction, the copy briefly holds the uncommitted story ...
        assert theme_counts()[0] == before[0] + 1
        raise RuntimeError("the request failed after indexing")
    # ... and after the rollback it must not keep it.
    assert theme_counts() == before


def test_the_change_log_keeps_only_its_latest_rows(archive, monkeypatch):
    monkeypatch.setattr(columns, "KEPT_CHANGES", 3)
    for _ in range(5):
        story_index_refresh(story_id=archive["bus"].pk)
    assert IndexChange.objects.count() <= 3
    assert theme_counts()[0] == 4


def test_an_index_that_empties_and_fills_again_catches_up(archive, no_full_load):
    """A copy that holds no stories is still a copy: the next change patches it, keeping the facets' values.
    (Every story hidden at once, as a login on the story index does, then one story back.)"""
    _, counts = theme_counts()
    no_full_load()
    hidden_at = "2026-01-01T00:00Z"
    for story in archive.values():
        StoryPage.objects.filter(pk=story.pk).update(withdrawn_at=hidden_at)
        story_index_refresh(story_id=story.pk)
    assert theme_counts() == (0, {})
    StoryPage.objects.filter(pk=archive["bus"].pk).update(withdrawn_at=None)
    story_index_refresh(story_id=archive["bus"].pk)
    StoryPage.objects.filter(pk=archive["bus"].pk).update(title="Riding the number 9 bus again")
    story_index_refresh(story_id=archive["bus"].pk)
    assert theme_counts() == (1, {"reliable-transportation": 1, "lifelong-learning": 1})
