"""/insights/ on a 375 px phone and a laptop, with figures in every table: nothing scrolls sideways on the phone,
each crossed table reads row by row with every figure named by its column, and on the laptop the chart stands beside
its table."""

import pytest

from tests.insights.conftest import build_archive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_nothing_scrolls_sideways_and_each_figure_names_its_column(browser_page):
    build_archive()
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/insights/")

    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    chart = page.locator("#theme-by-generation svg").bounding_box()
    table = page.locator("#theme-by-generation table").bounding_box()
    assert chart["width"] <= 375 and table["width"] <= 375
    assert table["y"] > chart["y"], "on a phone the table follows its chart"
    label = page.evaluate(
        "() => getComputedStyle(document.querySelector('#theme-by-generation td[data-label]'), '::before').content"
    )
    assert label == '"Baby Boomers"'
    page.screenshot(path="test-results/browser/insights-phone.png", full_page=True)


def test_on_a_laptop_each_chart_stands_beside_its_table(browser_page):
    build_archive()
    page = browser_page
    page.goto("/insights/")

    chart = page.locator("#quarter svg").bounding_box()
    table = page.locator("#quarter table").bounding_box()
    assert chart["x"] + chart["width"] <= table["x"]
    assert page.locator("#quarter .insights-summary").inner_text().startswith("Of 13 stories, the most (6)")
