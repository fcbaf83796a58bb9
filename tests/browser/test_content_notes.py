"""Content notes in real Chromium: the story waits until Continue, the choice is remembered for that story in this
browser only, and a ?t= link does not start playing behind the notes."""

import pytest

from stories.factories import PersonFactory, public_story
from stories.models import ContentNote
from tests.browser.conftest import close_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def grief_story(garden_story):
    note, _ = ContentNote.objects.get_or_create(slug="grief-and-loss", defaults={"name": "Grief and loss"})
    garden_story.content_notes.set([note])
    garden_story.save()
    return garden_story


def player_state(page) -> dict:
    return page.eval_on_selector("#player", "p => ({paused: p.paused, time: p.currentTime})")


def test_the_story_waits_behind_its_notes_until_continue_even_from_a_moment_link(browser_page, grief_story):
    page = browser_page
    page.goto(f"{grief_story.url}?t=2")

    assert page.get_by_role("heading", name="Content notes").is_visible()
    assert not page.locator("#player").is_visible()
    page.wait_for_timeout(500)
    assert player_state(page)["paused"], "nothing plays behind the notes"

    page.get_by_role("link", name="Continue to the story").click()

    assert page.locator("#player").is_visible()
    page.wait_for_function("() => !document.querySelector('#player').paused")
    assert player_state(page)["time"] >= 2, "the moment the link asked for is where it starts"
    assert "continue=1" not in page.url, "the script revealed the story in place"


def test_the_choice_is_remembered_for_that_story_only(browser_page, grief_story):
    page = browser_page
    page.goto(grief_story.url)
    page.get_by_role("link", name="Continue to the story").click()

    page.reload()

    assert page.locator("#player").is_visible()
    assert not page.get_by_role("link", name="Continue to the story").is_visible()
    other = public_story(title="The mill", people=[PersonFactory(display_name="Ann", birth_year=1950)])
    other.content_notes.set(ContentNote.objects.filter(slug="grief-and-loss"))
    other.save()
    page.goto(other.url)
    assert page.get_by_role("link", name="Continue to the story").is_visible(), "another story still asks"


def test_without_javascript_the_continue_link_shows_the_story(request, chromium, live_server, grief_story):
    page = chromium.new_context(base_url=live_server.url, java_script_enabled=False).new_page()
    try:
        page.goto(grief_story.url)
        assert not page.locator("#player").is_visible()

        page.get_by_role("link", name="Continue to the story").click()

        assert page.locator("#player").is_visible()
        assert page.get_by_text("we picked tomatoes together").is_visible()
    finally:
        close_tab(request, page)


def test_axe_finds_no_violations_on_a_story_behind_its_notes(browser_page, grief_story):
    from axe_playwright_python.sync_playwright import Axe

    browser_page.goto(grief_story.url)
    browser_page.wait_for_load_state("load")

    results = Axe().run(browser_page)

    assert results.violations_count == 0, [rule["id"] for rule in results.response["violations"]]
