"""The transcript corrector in the admin, in Chromium: the recording and the segments kept in step, shortcuts, autosave,
and the message a facilitator gets when someone else changed the transcript first; on a laptop and on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client

from transcription.models import Segment, Transcript

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFLICT = "Someone else changed this transcript; reload to see their changes."
SAVED = "All changes are saved."


@pytest.fixture
def corrector(browser_page, live_server, garden_story, django_user_model):
    """The garden story's transcript page, open in the browser of a signed-in facilitator who may edit it."""
    editor = django_user_model.objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client = Client()
    client.force_login(editor)
    browser_page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    browser_page.goto(f"/admin/transcription/story/{garden_story.pk}/")
    browser_page.wait_for_function("() => document.querySelectorAll('[data-segment]').length === 3")
    return browser_page


def playing(page) -> int:
    """Which segment (0, 1, 2) the corrector highlights as being played, or -1."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-segment]')).findIndex(s => s.classList.contains('is-playing'))"
    )


def segment(page, number: int):
    return page.locator("[data-segment]").nth(number)


def segments_of(story):
    transcript = Transcript.objects.get(media=story.recording, is_current=True)
    return list(transcript.segments.order_by("index"))


def test_the_highlight_follows_the_recording_clicks_play_and_shortcuts_step(corrector, garden_story):
    page = corrector
    assert page.locator("#corrector-player source").first.get_attribute("src").endswith("/original")
    assert "Alt+K play or pause" in page.locator(".corrector__keys").inner_text()

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+KeyK")  # play
    page.wait_for_function("() => !document.getElementById('corrector-player').paused")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-segment]')[1].classList.contains('is-playing')", timeout=10000
    )  # the highlight moved on as the recording played past 1.8 s
    page.keyboard.press("Alt+KeyK")  # pause
    page.wait_for_function("() => document.getElementById('corrector-player').paused")

    segment(page, 2).locator("[data-play]").click()
    page.wait_for_function("() => document.getElementById('corrector-player').currentTime >= 3.6")
    assert playing(page) == 2
    assert segment(page, 2).get_attribute("aria-current") == "true"

    page.keyboard.press("Alt+KeyJ")  # back one segment
    page.wait_for_function("() => document.querySelectorAll('[data-segment]')[1].classList.contains('is-playing')")
    assert 1.8 <= page.evaluate("() => document.getElementById('corrector-player').currentTime") < 3.6

    # Typing a "j" or a "k" in a segment is words, not a shortcut.
    text = segment(page, 0).locator("textarea")
    text.click()
    text.press("End")
    before = playing(page)
    text.type(" jk")
    assert text.input_value().endswith(" jk") and playing(page) == before

    page.keyboard.press("Alt+KeyL")  # forward one segment, even from inside the text box
    page.wait_for_function("() => document.querySelectorAll('[data-segment]')[2].classList.contains('is-playing')")


def test_an_edit_is_saved_by_itself_and_a_change_underneath_is_told_without_losing_the_text(corrector, garden_story):
    page = corrector
    text = segment(page, 1).locator("textarea")
    text.fill("behind the old house and every summer")
    page.wait_for_function(f"() => document.querySelector('[data-corrector-status]').textContent === {SAVED!r}")
    assert segments_of(garden_story)[1].text == "behind the old house and every summer"
    assert segments_of(garden_story)[1].edited
    assert segment(page, 1).locator("[data-edited]").is_visible()

    # Another facilitator saves a change meanwhile.
    Transcript.objects.filter(media=garden_story.recording).update(version=99)
    Segment.objects.filter(pk=segments_of(garden_story)[0].pk).update(text="Their change")

    text.fill("behind the house, every single summer")
    conflict = page.locator("[data-corrector-conflict]")
    conflict.wait_for(state="visible")
    assert CONFLICT in conflict.inner_text()
    assert text.input_value() == "behind the house, every single summer"  # nothing typed is lost
    assert segments_of(garden_story)[1].text == "behind the old house and every summer"
    assert segments_of(garden_story)[0].text == "Their change"


def test_speaker_nudge_merge_and_split_from_the_page(corrector, garden_story):
    page = corrector
    rosa = garden_story.participants.get().person

    segment(page, 0).locator("select").select_option(label="Rosa")
    page.wait_for_function(f"() => document.querySelector('[data-corrector-status]').textContent === {SAVED!r}")
    assert segments_of(garden_story)[0].speaker == rosa

    segment(page, 1).get_by_role("button", name="−0.1 seconds: end earlier").click()
    page.wait_for_function(f"() => document.querySelector('[data-corrector-status]').textContent === {SAVED!r}")
    assert segments_of(garden_story)[1].end == pytest.approx(3.5)
    assert "03.5" in segment(page, 1).locator("[data-clock]").inner_text()

    segment(page, 0).get_by_role("button", name="Merge segment 1 with segment 2").click()
    page.wait_for_function("() => document.querySelectorAll('[data-segment]').length === 2")
    merged = segments_of(garden_story)[0]
    assert merged.text == "My grandmother kept a vegetable garden behind the house and every summer"
    assert (merged.start, merged.end, merged.speaker) == (0.0, 3.5, rosa)

    text = segment(page, 1).locator("textarea")
    text.evaluate("(box) => { box.focus(); box.setSelectionRange(9, 9); }")  # "we picked| tomatoes together"
    segment(page, 1).get_by_role("button", name="Split segment 2 at the cursor").click()
    page.wait_for_function("() => document.querySelectorAll('[data-segment]').length === 3")
    assert [s.text for s in segments_of(garden_story)] == [
        "My grandmother kept a vegetable garden behind the house and every summer",
        "we picked",
        "tomatoes together",
    ]
    assert segment(page, 2).locator("textarea").input_value() == "tomatoes together"


def _violations(results) -> str:
    return "\n".join(
        f"{rule['id']}: {rule['help']} at {[node['target'] for node in rule['nodes']]}"
        for rule in results.response["violations"]
    )


def test_the_corrector_has_no_accessibility_violations(corrector):
    results = Axe().run(corrector, context="#corrector")
    assert results.violations_count == 0, _violations(results)


def test_the_story_editors_player_has_no_accessibility_violations(corrector, garden_story):
    page = corrector
    page.goto(f"/admin/pages/{garden_story.pk}/edit/")
    page.locator(".recording-player-panel audio").wait_for(state="attached")
    assert page.locator(".recording-player-panel source").first.get_attribute("src").endswith("/original")
    results = Axe().run(page, context=".recording-player-panel")
    assert results.violations_count == 0, _violations(results)


def test_on_a_phone_the_corrector_fits_the_screen_and_plays_a_tapped_segment(corrector):
    page = corrector
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('[data-segment]').length === 3")

    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    corrector_box = page.locator("#corrector").bounding_box()
    assert corrector_box["x"] >= 0 and corrector_box["x"] + corrector_box["width"] <= 375

    segment(page, 1).locator("[data-play]").click()
    page.wait_for_function("() => document.querySelectorAll('[data-segment]')[1].classList.contains('is-playing')")
    assert not page.evaluate("() => document.getElementById('corrector-player').paused")


def test_the_review_dashboard_and_the_transcript_upload_have_no_accessibility_violations(corrector, garden_story):
    """The admin's other custom parts a facilitator reviews with: the dashboard on the admin home, and the page that
    takes a transcript people made."""
    page = corrector
    page.goto("/admin/")
    dashboard = 'section:has(ul[aria-label="What is waiting"])'
    page.locator(dashboard).wait_for(state="attached")
    results = Axe().run(page, context=dashboard)
    assert results.violations_count == 0, _violations(results)

    page.goto(f"/admin/transcription/story/{garden_story.pk}/upload/")
    page.locator("main form").first.wait_for(state="attached")
    results = Axe().run(page, context="main")
    assert results.violations_count == 0, _violations(results)
