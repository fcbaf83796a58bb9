"""Relevance order on the database backend: best match first, pages that continue each other, and filters or hidden
stories that never leave a page short."""

import numpy as np
import pytest

from search.analysis import SearchText
from search.backends import get_search_backend
from search.backends.database import _ranked_page
from search.query import StoryQuery
from search.services import search_index_rebuild
from stories.factories import PersonFactory, public_story, theme
from stories.models import StoryPage

STORIES = 30


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.ELASTICSEARCH_URL = ""


@pytest.fixture
def orchard():
    """Thirty stories that all say "orchard", story n saying it n times, so story 29 matches best. Even-numbered
    stories are about the natural world, odd ones about housing."""
    person = PersonFactory()
    stories = [
        public_story(
            title=f"Story {n}",
            summary=" ".join(["orchard"] * (n + 1) + ["and", "the", "rest", "of", "the", "day"] * 3),
            people=[person],
            themes=[theme("thriving-natural-world" if n % 2 == 0 else "humane-housing")],
        )
        for n in range(STORIES)
    ]
    search_index_rebuild()
    return stories


def titles(**fields):
    return [hit.story.title for hit in get_search_backend().search(StoryQuery(text="orchard", **fields)).hits]


def test_the_story_that_says_it_most_comes_first(orchard):
    assert titles(page_size=3) == ["Story 29", "Story 28", "Story 27"]


def test_relevance_pages_continue_each_other_without_repeats(orchard):
    pages = [titles(page_size=7, page=page) for page in range(1, 6)]
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    shown = [title for page in pages for title in page]
    assert shown == [f"Story {n}" for n in range(STORIES - 1, -1, -1)]


def test_a_filter_keeps_the_order_and_fills_the_page(orchard):
    assert titles(themes=("thriving-natural-world",), page_size=4) == ["Story 28", "Story 26", "Story 24", "Story 22"]
    assert titles(themes=("thriving-natural-world",), page_size=4, page=4) == ["Story 4", "Story 2", "Story 0"]


def test_best_matches_hidden_since_indexing_leave_the_page_full(orchard):
    StoryPage.objects.filter(pk__in=[orchard[29].pk, orchard[27].pk]).update(visibility="private")
    results = get_search_backend().search(StoryQuery(text="orchard", page_size=3))
    assert [hit.story.title for hit in results.hits] == ["Story 28", "Story 26", "Story 25"]
    assert results.total == STORIES - 2


def test_a_page_is_filled_even_when_more_of_the_best_are_left_out_than_were_asked_for(orchard):
    # Without filters the database is asked for only the best few; when those are not allowed (hidden, or indexed
    # after this process last read the index) the rest are read on.
    allowed = np.array([story.pk for story in orchard[:5]])
    page, scores = _ranked_page(SearchText.parse("orchard"), StoryQuery(page_size=3), allowed, filtered=False)
    assert page == [orchard[4].pk, orchard[3].pk, orchard[2].pk]
    assert scores[orchard[4].pk] > scores[orchard[3].pk] > scores[orchard[2].pk] > 0
