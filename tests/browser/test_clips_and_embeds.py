"""Clips, the embeddable player, the speed control and the phone's sticky player, in real Chromium."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from stories.factories import CollectionEntryFactory, CollectionPageFactory
from transcription.models import Segment

from .test_accessibility import RECORD_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYER = "document.querySelector('#player')"
# Paused at or after the clip's end (3 s): the player has played the clip and stopped.
STOPPED_AT_THE_END = f"() => {PLAYER}.paused && {PLAYER}.currentTime >= 2.9"


def embed_url(story) -> str:
    return f"/embed/stories/{story.pk}/"


@pytest.mark.parametrize("width", [1280, 375])
def test_a_clip_plays_its_stretch_stops_at_the_end_and_says_so(browser_page, garden_story, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{garden_story.url}?t=1,3")

    notice = page.locator("[data-clip-notice]")
    assert notice.is_visible()
    assert notice.text_content().startswith("Playing 00:01\N{EN DASH}00:03 of this story.")
    page.wait_for_function(STOPPED_AT_THE_END)

    assert page.eval_on_selector("#player", "p => p.currentTime") < 3.5, "it played on past the clip"
    assert page.eval_on_selector("#player", "p => p.played.start(0)") >= 0.9, "it started at the clip's start"
    assert "behind the house" in page.locator(".transcript__lines li.is-current").text_content()
    assert "The clip has ended." in page.evaluate(
        "() => getComputedStyle(document.querySelector('[data-clip-notice]'), '::after').content"
    )


def test_play_the_whole_story_plays_on_past_the_clip(browser_page, garden_story):
    page = browser_page
    page.goto(f"{garden_story.url}?t=1,3")
    page.wait_for_function(STOPPED_AT_THE_END)

    page.get_by_role("link", name="Play the whole story").click()

    page.wait_for_function(f"() => {PLAYER}.currentTime >= 3.7 && !{PLAYER}.paused")
    assert page.url.endswith(garden_story.url), "the address no longer names the clip"
    assert not page.locator("[data-clip-notice]").is_visible()


def test_share_this_moment_follows_the_chosen_stretch(browser_page, garden_story):
    page = browser_page
    page.goto(garden_story.url)

    page.get_by_text("Share this moment").click()
    page.get_by_label("From (minutes:seconds)").fill("00:01")
    page.get_by_label("To (leave empty for the rest of the story)").fill("0:03")

    link = page.locator("#share-link").input_value()
    assert link.endswith(f"{garden_story.url}?t=1,3")
    citation = page.locator("#share-citation").input_value()
    assert citation.startswith("Rosa. “Grandmother's garden.” Recorded in Riverside")
    assert citation.endswith(f"Story Archive, 00:01\N{EN DASH}00:03. {link}.")
    assert f'{embed_url(garden_story)}?t=1,3"' in page.locator("#share-embed").input_value()

    page.get_by_label("To (leave empty for the rest of the story)").fill("00:00")
    assert "The end must come after the start" in page.locator("[data-share-problem]").text_content()
    assert page.locator("#share-link").input_value().endswith("?t=1")


def test_the_speed_control_runs_from_three_quarters_to_twice_the_speed(browser_page, garden_story):
    page = browser_page
    page.goto(garden_story.url)
    speed = page.get_by_label("Speed")

    options = speed.locator("option").evaluate_all("options => options.map(o => o.value)")
    speed.select_option("1.5")

    assert options == ["0.75", "1", "1.25", "1.5", "1.75", "2"]
    assert page.eval_on_selector("#player", "p => p.playbackRate") == 1.5
    speed.select_option("0.75")
    assert page.eval_on_selector("#player", "p => p.playbackRate") == 0.75


def test_on_a_phone_the_player_stays_in_view_while_the_transcript_scrolls(browser_page, garden_story):
    transcript = garden_story.recording.transcripts.get()
    Segment.objects.bulk_create(
        Segment(transcript=transcript, index=i, start=5.4 + i / 100, end=5.4 + (i + 1) / 100, text=f"More words {i}.")
        for i in range(3, 60)
    )
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(garden_story.url)

    page.evaluate(
        "() => { const lines = document.querySelector('[data-lines]').getBoundingClientRect();"
        " window.scrollTo(0, window.scrollY + lines.bottom - window.innerHeight + 10); }"
    )

    where = page.evaluate(
        "() => ({ listening: document.querySelector('.listening').getBoundingClientRect().top,"
        " player: document.querySelector('#player').getBoundingClientRect().toJSON(), height: window.innerHeight })"
    )
    assert where["listening"] < -100, "control: the page has scrolled past where the player began"
    assert 0 <= where["player"]["top"] and where["player"]["bottom"] <= where["height"], where


def test_the_embed_plays_the_clip_with_its_transcript_and_captions(browser_page, garden_story):
    page = browser_page
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto(f"{embed_url(garden_story)}?t=1,3")

    assert "x-frame-options" not in response.headers
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    page.wait_for_function(STOPPED_AT_THE_END)
    assert page.locator(".transcript__lines li").count() == 3
    page.wait_for_function(
        f"() => {PLAYER}.textTracks.length === 1 && ({PLAYER}.textTracks[0].cues || []).length === 3"
    )
    assert page.eval_on_selector("#player", "p => p.textTracks[0].kind") == "captions"
    assert page.evaluate("window.__violations") == []


@pytest.fixture
def another_site():
    """A second site on the loopback address, serving `another_site.page` at its root: the origin that frames ours."""
    site = SimpleNamespace(page="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = site.page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield site
    server.shutdown()
    server.server_close()


def test_another_site_may_frame_the_embed_and_never_the_story_page(
    browser_page, garden_story, live_server, another_site
):
    page = browser_page
    embed, story = f"{live_server.url}{embed_url(garden_story)}", f"{live_server.url}{garden_story.url}"
    another_site.page = (
        f'<!DOCTYPE html><title>A newspaper</title><iframe name="embed" src="{embed}"></iframe>'
        f'<iframe name="story" src="{story}"></iframe>'
    )

    def framing_refused(message) -> bool:
        return "frame-ancestors 'none'" in message.text

    with page.expect_console_message(framing_refused) as refusal:
        page.goto(another_site.url)
    page.frame(name="embed").wait_for_selector("#player", state="attached")

    assert page.frame(name="embed").url.startswith(embed)
    assert "has been blocked" in refusal.value.text
    assert page.frame(name="story").query_selector("#story-title") is None, "the story page showed inside the frame"


def test_a_collection_clip_stops_at_its_end_and_the_collection_moves_on(browser_page, garden_story):
    collection = CollectionPageFactory(title="Gardens")
    CollectionEntryFactory(page=collection, story=garden_story, sort_order=0, start_seconds=1, end_seconds=2)
    CollectionEntryFactory(page=collection, story=garden_story, sort_order=1, start_seconds=3, note="The tomatoes")
    page = browser_page
    page.goto(collection.url)
    assert "Listen to 00:01\N{EN DASH}00:02" in page.locator(".collection-entries").text_content()

    page.get_by_role("button", name="Play the collection in order").click()

    page.wait_for_function("() => document.querySelector('[data-now-playing]').textContent.includes('2 of 2')")
    assert "The tomatoes" in page.locator("[data-now-playing]").text_content()
    page.wait_for_function(f"() => {PLAYER}.currentTime >= 3 && {PLAYER}.played.length > 0")
