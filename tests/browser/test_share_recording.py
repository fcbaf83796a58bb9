"""The share form in real Chromium: a chosen file goes up in resumable pieces, and recording in the page works."""

import hashlib
import re

import pytest

from stories.models import ShareUpload, StoryMedia, StoryPage
from tests.stories.test_intake_support import SPEECH_WAV, fresh_rate_limits, make_invite  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, permissions=["microphone"]
    )
    context.set_default_timeout(20000)
    yield context.new_page()
    context.close()


def fill_and_share(page):
    page.fill("#id_title", "Grandma's garden")
    page.fill("#id_storytellers-0-display_name", "Rose")
    page.check("#id_consent")
    page.click("button.share-submit")
    page.wait_for_url(re.compile(r"/share/sent/$"))
    return page.locator(".share-link a").inner_text()


def test_a_chosen_file_goes_up_in_pieces_and_survives_a_dropped_piece(phone, settings):
    settings.STORY_UPLOAD_CHUNK_BYTES = 16 * 1024
    invite = make_invite()
    dropped = []

    def drop_the_third_piece_once(route):
        if route.request.method == "PATCH" and route.request.headers.get("upload-offset") == str(2 * 16 * 1024):
            if not dropped:
                dropped.append(route.request.url)
                route.abort("connectionreset")
                return
        route.continue_()

    phone.route(re.compile(r".*/uploads/.*"), drop_the_third_piece_once)
    phone.goto(invite.get_absolute_url())
    phone.set_input_files("#id_recording", str(SPEECH_WAV))
    phone.wait_for_function("() => document.querySelector('input[name=upload_id]').value !== ''")
    assert dropped, "the test meant to cut a piece off"
    manage_link = fill_and_share(phone)
    assert "/my-story/" in manage_link

    media = StoryMedia.objects.get()
    assert media.sha256 == hashlib.sha256(SPEECH_WAV.read_bytes()).hexdigest()
    assert StoryPage.objects.get(title="Grandma's garden").recording == media
    assert ShareUpload.objects.get().recording == media


def test_a_story_recorded_in_the_page_is_kept(phone):
    invite = make_invite()
    phone.goto(invite.get_absolute_url())
    phone.click("[data-record-start]")
    phone.wait_for_selector("[data-record-stop]:not([hidden])")
    phone.wait_for_function("() => document.querySelector('[data-record-time]').textContent.includes('0:02')")
    phone.click("[data-record-stop]")
    phone.wait_for_function("() => document.querySelector('input[name=upload_id]').value !== ''")
    fill_and_share(phone)
    media = StoryMedia.objects.get()
    assert media.container == "matroska,webm"
    assert media.audio_codec == "opus"
    assert media.duration_seconds and media.duration_seconds > 1
