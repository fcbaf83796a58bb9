"""The figures every search backend counts for the insights, checked against the archive counted by hand (hidden
stories of every kind never count), narrowed by the search's filters. The Elasticsearch half needs a live cluster at
ELASTICSEARCH_URL and is skipped otherwise, as in tests/search/test_contract.py."""

import datetime

import pytest
from django.utils import timezone

from search.backends import get_search_backend
from search.figures import Tally
from search.query import StoryQuery
from stories.models import Consent
from tests.live_cluster import BOTH_BACKENDS, search_backend

from .conftest import HOUSING, TRANSPORT, housing_story

HOUR = 3600.0


@pytest.fixture(autouse=True, params=BOTH_BACKENDS)
def which_backend(request, settings):
    with search_backend(request.param, settings, "insights"):
        yield request.param


def figures(**fields):
    return get_search_backend().insights(StoryQuery(**fields))


def counts(tallies: dict) -> dict:
    return {key: tally.stories for key, tally in tallies.items()}


def hours(tallies: dict) -> dict:
    return {key: round(tally.seconds / HOUR, 3) for key, tally in tallies.items()}


def test_the_archive_counted_by_hand(archive):
    found = figures()
    assert found.total == Tally(13, 8 * HOUR)
    assert found.intergenerational == Tally(6, 3 * HOUR)
    assert counts(found.by["theme"]) == {HOUSING: 8, TRANSPORT: 5}
    assert hours(found.by["theme"]) == {HOUSING: 3.0, TRANSPORT: 5.0}
    assert counts(found.by["generation"]) == {"boomers": 8, "gen-z": 11}
    assert counts(found.by["community"]) == {"harbor-point": 11, "cedar-flats": 2}
    assert counts(found.by["language"]) == {"en": 11, "es": 2}
    assert counts(found.by["kind"]) == {"audio": 11, "text": 2}
    assert counts(found.by["quarter"]) == {"2024-Q4": 2, "2025-Q1": 6, "2025-Q2": 5}
    assert hours(found.by["quarter"]) == {"2024-Q4": 0.0, "2025-Q1": 3.0, "2025-Q2": 5.0}
    assert counts(found.crossed[("theme", "generation")]) == {
        (HOUSING, "boomers"): 8,
        (HOUSING, "gen-z"): 6,
        (TRANSPORT, "gen-z"): 5,
    }
    assert counts(found.crossed[("theme", "community")]) == {
        (HOUSING, "harbor-point"): 6,
        (HOUSING, "cedar-flats"): 2,
        (TRANSPORT, "harbor-point"): 5,
    }
    assert counts(found.crossed[("generation", "community")]) == {
        ("boomers", "harbor-point"): 6,
        ("boomers", "cedar-flats"): 2,
        ("gen-z", "harbor-point"): 11,
    }
    assert hours(found.crossed[("generation", "community")])[("gen-z", "harbor-point")] == 8.0


def test_control_one_more_public_story_counts(archive):
    """The counts can move: a fourteenth public story, of the kind every hidden one is, is counted at once."""
    from search.services import story_index_refresh

    story = housing_story(200)
    story_index_refresh(story_id=story.pk)
    found = figures()
    assert found.total.stories == 14
    assert counts(found.by["theme"])[HOUSING] == 9
    assert counts(found.crossed[("theme", "community")])[(HOUSING, "harbor-point")] == 7


def test_a_withdrawn_story_leaves_every_figure_the_moment_it_is_withdrawn(archive):
    before = figures()
    consent = Consent.objects.filter(story=archive["housing"][0]).first()
    consent.withdrawn_at = timezone.now()
    consent.save()
    after = figures()
    assert after.total == Tally(12, 7.5 * HOUR)
    assert after.intergenerational.stories == before.intergenerational.stories - 1
    for dimension, value in (("theme", HOUSING), ("generation", "boomers"), ("generation", "gen-z")):
        assert after.by[dimension][value].stories == before.by[dimension][value].stories - 1
    for dimension, value in (("community", "harbor-point"), ("language", "en"), ("kind", "audio")):
        assert after.by[dimension][value].stories == before.by[dimension][value].stories - 1
    assert after.by["quarter"]["2025-Q1"].stories == 5
    pair = (HOUSING, "harbor-point")
    assert (
        after.crossed[("theme", "community")][pair].stories == before.crossed[("theme", "community")][pair].stories - 1
    )


def test_filters_narrow_every_figure_as_they_narrow_search(archive):
    found = figures(themes=(TRANSPORT,), communities=("harbor-point",), recorded_from=datetime.date(2025, 1, 1))
    assert found.total == Tally(5, 5 * HOUR)
    assert counts(found.by["generation"]) == {"gen-z": 5}
    assert (
        found.total.stories
        == get_search_backend()
        .search(StoryQuery(themes=(TRANSPORT,), communities=("harbor-point",), recorded_from=datetime.date(2025, 1, 1)))
        .total
    )
    assert figures(intergenerational=True).total.stories == 6
    assert figures(languages=("es",)).total == Tally(2, 0.0)
    assert figures(kinds=("text",)).total.stories == 2
    assert figures(generations=("boomers",)).total.stories == 8
    assert figures(recorded_to=datetime.date(2024, 12, 31)).total.stories == 2


def test_a_text_query_narrows_the_figures_to_the_stories_it_finds(archive):
    found = figures(text="Transport")
    assert found.total.stories == 5
    assert counts(found.by["theme"]) == {TRANSPORT: 5}
    assert figures(text="nothing-says-this").total == Tally(0, 0.0)


def test_an_empty_archive_counts_nothing(search_index_is_empty):
    found = figures()
    assert found.total == Tally(0, 0.0)
    assert all(not values for values in found.by.values())
    assert all(not pairs for pairs in found.crossed.values())
    assert figures(intergenerational=True, text="housing").total == Tally(0, 0.0)


@pytest.fixture
def search_index_is_empty():
    from search.services import search_index_rebuild

    search_index_rebuild()
