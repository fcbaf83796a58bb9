"""Listening counted from real Chromium: the story page's player sends its stretches, and Global Privacy Control
stops it."""

import json

import pytest

from audience import tally
from audience.models import StoryListeningDay, StoryStretchListens
from tests.audience.conftest import empty_tally  # noqa: F401 - the figures start empty for each test

# Browser tests live in tests/browser and share its one Chromium: importing the session-wide fixture into another
# package starts a second Playwright, and Playwright's sync API refuses to run beside one already running.

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def play_a_little(page) -> None:
    """Play past the first second, then pause: a report goes when a stretch is first heard, and on pause."""
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    page.eval_on_selector("#player", "player => player.play()")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 1")
    page.eval_on_selector("#player", "player => player.pause()")


def test_playing_a_recording_counts_its_stretches(browser_page, garden_story, settings):
    settings.AUDIENCE_FLUSH_EVERY = 1  # each report is written as it comes, so the test can read it
    page = browser_page
    page.goto(garden_story.url)

    with page.expect_request("**/listened") as sent:
        play_a_little(page)
    beacon = sent.value
    assert beacon.method == "POST"
    assert json.loads(beacon.post_data) == {"story": garden_story.pk, "stretches": [0], "play": True}
    assert beacon.response().status == 202
    assert "cookie" not in {name.lower() for name in beacon.all_headers()}

    tally.flush()
    day = StoryListeningDay.objects.get(story=garden_story)
    assert (day.plays, day.stretches_heard) == (1, 1), "the 5.5-second clip is one stretch, heard once"
    assert list(StoryStretchListens.objects.filter(story=garden_story).values_list("stretch", "listens")) == [(0, 1)]


@pytest.mark.parametrize(
    "signal",
    [
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})",
        "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})",
    ],
    ids=["Global Privacy Control", "Do Not Track"],
)
def test_a_browser_asking_not_to_be_tracked_sends_nothing(browser_page, garden_story, settings, signal):
    settings.AUDIENCE_FLUSH_EVERY = 1
    page = browser_page
    page.add_init_script(signal)
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/listened" in request.url else None)
    page.goto(garden_story.url)

    play_a_little(page)
    page.goto("/search/")  # leaving the page is when a last report would go

    assert sent == []
    tally.flush()
    assert not StoryListeningDay.objects.exists()
