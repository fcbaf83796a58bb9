"""Chapters in real Chromium: a chapter's link plays the recording from its start, under the site's CSP, on a phone
too, and the chapter being heard is marked."""

import pytest

from stories.factories import ChapterFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.parametrize("width", [1280, 375])
def test_choosing_a_chapter_plays_from_its_start_and_marks_it(browser_page, garden_story, width):
    ChapterFactory(story=garden_story, start_seconds=0, title="The garden")
    ChapterFactory(story=garden_story, start_seconds=3, title="Tomatoes")
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(garden_story.url)
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")

    page.get_by_role("link", name="00:03 Tomatoes").click()

    page.wait_for_function("() => document.querySelector('#player').currentTime >= 3")
    assert page.url.endswith(garden_story.url), "the page stayed; only the player moved"
    page.wait_for_function("() => (document.querySelector('.chapters__list li.is-current') || {}).textContent")
    current = page.locator(".chapters__list li.is-current")
    assert current.count() == 1 and "Tomatoes" in current.text_content()
    assert current.get_attribute("aria-current") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    assert page.evaluate("window.__violations") == []
