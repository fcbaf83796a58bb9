"""Real Chromium (Debian's) driven by Playwright against pytest-django's live server."""

import os
import re
import threading
import time
from pathlib import Path

import pytest

from stories.factories import PersonFactory, public_story, theme
from stories.media import recording_store
from tests.transcription.recordings import recordings_not_transcribed
from transcription.models import Segment, Transcript
from transcription.services import recording_prepare_playback

# Playwright's sync API keeps an event loop running in this thread; the ORM calls in the tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # A test cannot click before the first play(), and the deep-link behaviour depends on playing at once.
    "--autoplay-policy=no-user-gesture-required",
    # A fake microphone that plays a tone, and no permission prompt: MediaRecorder runs as on a phone.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"
WAIT_MS = 5000


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests"
    if os.environ.get("CI"):
        return  # CI installs Chromium, so its absence there is a broken build: the chromium fixture fails
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium before the browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(request, chromium, live_server):
    """A fresh browser tab; when the test fails, a screenshot of it is kept under test-results/browser/."""
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    close_tab(request, page)


def close_tab(request, page) -> None:
    """End a test's tab: keep a screenshot when the test failed, then close it and let the live server finish.

    Every fixture or test that opens its own browser context against the live server ends it here, so that no
    request is still writing when pytest-django flushes the database.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")
    # The page may still be fetching a recording or captions, or uploading one; let those requests end first.
    try:
        page.wait_for_load_state("networkidle", timeout=2000)
    except PlaywrightTimeoutError:
        pass  # a player may hold its connection open; leaving the page below ends it
    page.goto("about:blank")
    page.context.close()
    _let_the_live_server_finish()


def _let_the_live_server_finish(seconds: float = 10.0) -> None:
    """Wait for the live server's request threads to end before the database is flushed.

    An upload still being saved when the page closes holds row locks; PostgreSQL's TRUNCATE during the flush then
    waits for it or, when their locks cross, is chosen as a deadlock's victim and the flush fails.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        serving = [t for t in threading.enumerate() if t.is_alive() and t.name.endswith("(process_request_thread)")]
        if not serving:
            return
        serving[0].join(timeout=max(deadline - time.monotonic(), 0))


CLIP = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "garden.ogg"  # 5.5 seconds of speech
LINES = [
    (0.0, 1.8, "My grandmother kept a vegetable garden"),
    (1.8, 3.6, "behind the house and every summer"),
    (3.6, 5.4, "we picked tomatoes together"),
]


@pytest.fixture
def garden_story():
    """A public story playing garden.ogg, with a current transcript of three lines at known times."""
    with recordings_not_transcribed(), open(CLIP, "rb") as source:
        media = recording_store(source=source, original_filename="garden.ogg")
    recording_prepare_playback(media=media, path=Path(media.file.path))  # the access copy the public hears
    story = public_story(
        title="Grandmother's garden",
        people=[PersonFactory(display_name="Rosa", birth_year=1948)],
        themes=[theme("thriving-natural-world")],
        community__name="Riverside",
        recording=media,
    )
    story.save()  # themes are written when the page saves
    transcript = Transcript.objects.create(
        media=media, model_name="test", status=Transcript.Status.DONE, is_current=True, language="en"
    )
    Segment.objects.bulk_create(
        Segment(transcript=transcript, index=i, start=start, end=end, text=text)
        for i, (start, end, text) in enumerate(LINES)
    )
    return story
