"""axe-core (bundled with axe-playwright-python, never fetched) on every public page, and text at 200% on a phone."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from search.services import search_index_rebuild
from stories.factories import CollectionEntryFactory, CollectionPageFactory, DialogueFactory
from stories.models import Invite
from tests.transcription.recordings import recordings_not_transcribed

from .conftest import CLIP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = ["home", "story", "search", "collection", "community", "theme", "share", "communities", "themes", "collections"]
PAGES += ["dialogues", "dialogue"]
PAGES += ["embed"]  # the player other sites frame, opened on a clip
PAGES += ["insights", "insights-filtered"]  # the archive's figures: SVG charts beside their tables
PAGES += ["insights-words"]  # in their own words: each generation's distinctive words (tests/browser/test_own_words.py)


@pytest.fixture
def public_pages(garden_story):
    """One address for each kind of public page, all showing the garden story."""
    collection = CollectionPageFactory(title="Gardens", intro="<p>Stories of what grows.</p>")
    CollectionEntryFactory(page=collection, story=garden_story, sort_order=0, start_seconds=2, note="The tomatoes")
    invite = Invite.objects.create(
        community=garden_story.community, expires_at=timezone.now() + datetime.timedelta(days=7), label="Garden club"
    )
    garden_story.dialogue = DialogueFactory(
        title="Garden club", community=garden_story.community, place="Riverside Library",
        questions="What grew in your family's garden?\nWho taught you to plant?",
    )  # fmt: skip
    garden_story.save()
    search_index_rebuild()
    return {
        "home": "/",
        "story": garden_story.url,
        "embed": f"/embed/stories/{garden_story.pk}/?t=1,3",
        "search": "/search/?q=tomatoes",
        "collection": collection.url,
        "community": garden_story.community.get_absolute_url(),
        "theme": "/themes/thriving-natural-world/",
        "share": invite.get_absolute_url(),
        "communities": "/communities/",
        "themes": "/themes/",
        "collections": "/collections/",
        "dialogues": "/dialogues/",
        "dialogue": garden_story.dialogue.get_absolute_url(),
        "insights": "/insights/",
        "insights-filtered": "/insights/?theme=thriving-natural-world&intergenerational=true",
        "insights-words": "/insights/words/?theme=thriving-natural-world",
    }


def _violations(results) -> str:
    return "\n".join(
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {[node['target'] for node in rule['nodes']]}"
        for rule in results.response["violations"]
    )


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_violations(browser_page, public_pages, name):
    page = browser_page
    page.goto(public_pages[name])
    page.wait_for_load_state("load")

    results = Axe().run(page)

    assert results.violations_count == 0, _violations(results)


@pytest.mark.parametrize("name", PAGES)
def test_text_at_200_percent_on_a_375_pixel_screen_needs_no_sideways_scrolling(browser_page, public_pages, name):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(public_pages[name])
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")

    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px wider than the screen"


def test_the_story_page_works_from_the_keyboard_alone(browser_page, garden_story):
    page = browser_page
    page.goto(garden_story.url)

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    for _ in range(40):  # Tab on until a transcript time has the focus
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('href')") == "?t=3":
            break
    page.keyboard.press("Enter")

    page.wait_for_function("() => document.querySelector('#player').currentTime >= 3.6")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")  # the focus can be seen


def test_the_share_form_takes_a_recording_and_confirms_it(browser_page, public_pages):
    page = browser_page
    page.goto(public_pages["share"])

    with recordings_not_transcribed():  # the upload may start as soon as the file is chosen
        page.get_by_label("A title for your story").fill("Tomatoes with my grandmother")
        page.get_by_label("Choose a recording (sound or video)").set_input_files(str(CLIP))
        page.locator('input[name="storytellers-0-display_name"]').fill("Rosa")
        page.locator('input[name="consent_scope"]').first.check()
        page.get_by_label("I have read the consent text above, and every storyteller agrees to it.").check()
        page.get_by_role("button", name="Share my story").click()
        page.get_by_role("heading", name="Thank you for sharing your story").wait_for()

    assert "/my-story/" in page.locator(".share-link").text_content()


# Collected from the page's first moment: every script, style, image and media request the policy refused.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.parametrize("name", PAGES)
def test_the_content_security_policy_refuses_nothing_the_page_needs(browser_page, public_pages, name):
    page = browser_page
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(public_pages[name])
    page.wait_for_load_state("load")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.evaluate("window.__violations") == []
