"""Related stories beside a story, and a collection that plays its stories in order from each entry's start."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from stories.factories import (
    CollectionEntryFactory,
    CollectionPageFactory,
    CommunityFactory,
    PersonFactory,
    public_story,
    theme,
)
from stories.models import Visibility
from stories.selectors import related_stories

from .conftest import recording, spoken_lines, transcribe

ELDER, YOUTH, MIDDLE = 1948, 2008, 1975


def _story(title, *, year, **fields):
    story = public_story(title=title, people=[PersonFactory(birth_year=year)], **fields)
    story.save()  # themes are written when the page saves
    return story


def test_related_stories_share_a_theme_or_the_community_and_are_public():
    riverside, hillside = CommunityFactory(name="Riverside"), CommunityFactory(name="Hillside")
    housing = theme("humane-housing")
    story = _story("The house on Elm Street", year=ELDER, community=riverside, themes=[housing])
    same_theme = _story("Rent in the nineties", year=YOUTH, community=hillside, themes=[housing])
    same_community = _story(
        "The river in spring", year=MIDDLE, community=riverside, themes=[theme("lifelong-learning")]
    )
    unrelated = _story("Night buses", year=YOUTH, community=hillside, themes=[theme("reliable-transportation")])
    private = _story("Kept back", year=YOUTH, community=riverside, themes=[housing], visibility=Visibility.PRIVATE)

    related = related_stories(story=story)

    assert related[:2] == [same_theme, same_community]  # a shared theme comes first
    assert unrelated not in related and private not in related and story not in related


def test_a_neighbour_sharing_a_theme_comes_before_newer_ones_that_share_only_the_community():
    riverside = CommunityFactory(name="Riverside")
    housing, learning = theme("humane-housing"), theme("lifelong-learning")
    story = _story("The house on Elm Street", year=ELDER, community=riverside, themes=[housing])
    neighbour = _story("Rent in the nineties", year=ELDER, community=riverside, themes=[learning, housing])
    newer = [_story(f"The river, part {n}", year=ELDER, community=riverside, themes=[learning]) for n in range(3)]

    related = related_stories(story=story)

    assert related == [neighbour, *reversed(newer)]


def test_related_stories_mix_generations_before_repeating_one():
    riverside = CommunityFactory(name="Riverside")
    story = _story("Grandmother's garden", year=ELDER, community=riverside)
    _story("Another elder's garden", year=ELDER + 1, community=riverside)
    _story("An elder's orchard", year=ELDER + 2, community=riverside)
    youth = _story("A youth's garden", year=YOUTH, community=riverside, recorded_on=datetime.date(2026, 5, 1))
    middle = _story("A parent's garden", year=MIDDLE, community=riverside)

    related = related_stories(story=story, limit=2)

    assert set(related) == {youth, middle}  # the elders' generation is already heard in the story itself


def test_the_story_page_lists_related_stories(client):
    riverside = CommunityFactory(name="Riverside")
    story = _story("Grandmother's garden", year=ELDER, community=riverside)
    _story("A youth's garden", year=YOUTH, community=riverside)

    html = client.get(story.url).content.decode()

    assert "Related stories" in html and "A youth&#x27;s garden" in html


def test_a_collection_plays_its_public_stories_in_order_from_each_start_with_its_note(client):
    collection = CollectionPageFactory(title="Getting there")
    first = public_story(title="First ride", recording=recording())
    transcribe(first.recording, spoken_lines(3))
    hidden = public_story(title="Withdrawn ride", recording=recording(), visibility=Visibility.PRIVATE)
    second = public_story(title="Second ride", recording=recording())
    written = public_story(title="A written ride")
    CollectionEntryFactory(page=collection, story=second, sort_order=2, start_seconds=5)
    CollectionEntryFactory(page=collection, story=first, sort_order=0, start_seconds=135, note="Listen for the bell")
    CollectionEntryFactory(page=collection, story=hidden, sort_order=1)
    CollectionEntryFactory(page=collection, story=written, sort_order=3)

    html = client.get(collection.url).content.decode()

    assert html.index("First ride") < html.index("Second ride") < html.index("A written ride")
    assert "Withdrawn ride" not in html and str(hidden.recording_id) not in html
    assert f'data-src="/recordings/{first.recording_id}/access"' in html
    assert 'data-start="135"' in html and 'data-start="5"' in html
    assert f'data-captions="{first.url}transcript.vtt"' in html
    assert html.count("data-captions=") == 1  # only the story with a transcript has captions
    assert "Listen for the bell" in html and f'href="{first.url}?t=135"' in html  # without JavaScript: a link


def test_a_collection_page_makes_as_many_queries_for_twelve_stories_as_for_two(client):
    def queries_for(count):
        collection = CollectionPageFactory()
        for order in range(count):
            story = public_story(recording=recording())
            transcribe(story.recording, spoken_lines(2))
            CollectionEntryFactory(page=collection, story=story, sort_order=order, start_seconds=order)
        client.get(collection.url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(collection.url).status_code == 200
        return len(queries)

    assert queries_for(2) == queries_for(12)
