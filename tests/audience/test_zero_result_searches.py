"""Searches that found nothing are counted by their text alone, for 90 days."""

import datetime

import pytest
import time_machine
from django.core.management import call_command

from audience import tally
from audience.models import ZeroResultSearch
from search.services import search_index_rebuild
from stories.factories import PersonFactory, public_story

TODAY = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC)


@pytest.fixture
def garden():
    story = public_story(title="The community garden", summary="Tomatoes and beans.", people=[PersonFactory()])
    search_index_rebuild()
    return story


def counted() -> dict[str, int]:
    tally.flush()
    return dict(ZeroResultSearch.objects.values_list("text", "searches"))


@time_machine.travel(TODAY, tick=False)
def test_a_search_page_and_an_api_search_that_find_nothing_are_counted_by_their_text(client, garden):
    assert client.get("/search/", {"q": "  Bus   Passes "}).status_code == 200
    assert client.get("/api/search", {"q": "bus passes"}).json()["count"] == 0
    client.get("/search/", {"q": "TRAIN"})

    assert counted() == {"bus passes": 2, "train": 1}
    assert set(ZeroResultSearch.objects.values_list("day", flat=True)) == {datetime.date(2026, 6, 15)}


def test_a_search_that_finds_a_story_is_not_counted(client, garden):
    """The control: the same searcher, with a word the archive holds."""
    assert client.get("/api/search", {"q": "garden"}).json()["count"] == 1
    client.get("/search/", {"q": "tomatoes"})
    client.get("/search/")  # no words at all: nothing to count
    assert counted() == {}


def test_nothing_about_the_searcher_is_kept(client, garden):
    client.get("/search/", {"q": "ferry"}, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Agent/1")
    tally.flush()
    assert [field.column for field in ZeroResultSearch._meta.concrete_fields] == ["id", "text", "day", "searches"]
    assert list(ZeroResultSearch.objects.values_list("text", "searches")) == [("ferry", 1)]


def test_searches_older_than_90_days_are_pruned_by_the_daily_task(client, garden):
    with time_machine.travel(TODAY, tick=False):
        client.get("/search/", {"q": "ferry"})
        tally.flush()
    with time_machine.travel(TODAY + datetime.timedelta(days=30), tick=False):
        client.get("/search/", {"q": "tram"})
        tally.flush()

    with time_machine.travel(TODAY + datetime.timedelta(days=89), tick=False):
        call_command("queue_audience_tasks")
        assert counted() == {"ferry": 1, "tram": 1}, "the 90th day still keeps the first search"
    with time_machine.travel(TODAY + datetime.timedelta(days=90), tick=False):
        call_command("queue_audience_tasks")
        assert counted() == {"tram": 1}
