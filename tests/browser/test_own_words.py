"""/insights/words/ with each generation's words listed (the crafted archive of tests/insights): axe finds nothing,
and on a 375 pixel phone with text at 200% the lists need no sideways scrolling."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from insights.words import forget
from tests.insights.conftest import build_words_archive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def words_archive():
    forget()
    build_words_archive()
    yield
    forget()


def test_the_words_page_with_its_lists_passes_axe_and_reads_on_a_phone(browser_page, words_archive):
    page = browser_page
    page.goto("/insights/words/")
    page.wait_for_load_state("load")
    assert page.get_by_role("link", name="streetcar").count() == 1

    results = Axe().run(page)
    violations = [f"{rule['id']}: {rule['help']}" for rule in results.response["violations"]]
    assert results.violations_count == 0, violations

    page.set_viewport_size({"width": 375, "height": 800})
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px wider than the screen"
