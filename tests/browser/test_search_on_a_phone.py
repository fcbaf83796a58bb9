"""The search page on a 390 px phone and a laptop: results first with the filters behind a counted button on the
phone, the filters open beside the results on the laptop; and the home page's search box suggests as /search/ does."""

import pytest

from search.services import search_index_rebuild

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILTERED = "/search/?theme=thriving-natural-world&community=riverside"


def test_on_a_phone_results_come_first_and_the_filters_open_from_their_button(browser_page, garden_story):
    search_index_rebuild()
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(FILTERED)

    toggle = page.locator("summary.search-facets__toggle")
    assert " ".join(toggle.inner_text().split()) == "Filters (2 active)"
    assert not page.locator(".search-facet__list").first.is_visible()
    first_hit = page.locator(".search-hit").first.bounding_box()
    assert first_hit is not None and first_hit["y"] < 844, "the first result is on the first screen"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    toggle.click()
    assert page.locator(".search-facet__list").first.is_visible()
    assert page.locator("#recorded-from").is_visible()


def test_on_a_laptop_the_filters_stand_open_beside_the_results(browser_page, garden_story):
    search_index_rebuild()
    page = browser_page
    page.goto(FILTERED)

    assert not page.locator("summary.search-facets__toggle").is_visible()
    facets = page.locator(".search-facet__list").first
    assert facets.is_visible()
    hit = page.locator(".search-hit").first.bounding_box()
    assert facets.bounding_box()["x"] < hit["x"]


def test_the_home_page_search_box_offers_words_as_search_does(browser_page, garden_story):
    search_index_rebuild()
    page = browser_page
    page.goto("/")

    page.locator("#home-search").press_sequentially("grandmother tom")

    options = "() => [...document.querySelectorAll('#home-search-suggestions option')].map(o => o.value)"
    page.wait_for_function(f"() => ({options})().length > 0")
    assert page.evaluate(options) == ["grandmother tomatoes"]
