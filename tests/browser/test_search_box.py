"""The search box in real Chromium: suggestions for the word being typed, from public stories only."""

import pytest

from search.services import search_index_rebuild
from stories.factories import StoryPageFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPTIONS = "() => [...document.querySelectorAll('#search-suggestions option')].map(o => o.value)"


def test_typing_offers_words_from_the_stories_that_complete_the_last_word(browser_page, garden_story):
    StoryPageFactory(title="Tomorrow's tomatillos", summary="A private story about tomatillos.")  # never public
    search_index_rebuild()
    page = browser_page
    page.goto("/search/")

    page.locator("#search-q").press_sequentially("grandmother tom")

    page.wait_for_function(f"() => ({OPTIONS})().length > 0")
    assert page.evaluate(OPTIONS) == ["grandmother tomatoes"]


def test_a_new_word_of_one_letter_clears_the_offers(browser_page, garden_story):
    search_index_rebuild()
    page = browser_page
    page.goto("/search/")
    page.locator("#search-q").press_sequentially("tom")
    page.wait_for_function(f"() => ({OPTIONS})().length > 0")

    page.locator("#search-q").press_sequentially(" t")

    page.wait_for_function(f"() => ({OPTIONS})().length === 0")
