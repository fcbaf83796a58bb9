"""The share form in real Chromium on a phone: a chosen file goes up in resumable pieces and is described, a recording
made in the page is kept in the browser until it is uploaded, and can be saved to the phone."""

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from stories.models import ShareUpload, StoryMedia, StoryPage
from tests.browser.conftest import close_tab
from tests.stories.test_intake_support import SPEECH_WAV, fresh_rate_limits, make_invite  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(request, chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, permissions=["microphone"]
    )
    context.set_default_timeout(20000)
    page = context.new_page()
    yield page
    close_tab(request, page)  # a recording may still be going up when the test ends


def fill_and_share(page):
    page.fill("#id_title", "Grandma's garden")
    page.fill("#id_storytellers-0-display_name", "Rose")
    page.check('input[name="consent_scope"][value="public"]')
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


KEPT_RECORDING = """() => new Promise((resolve) => {
  const opened = indexedDB.open("story-archive-share", 1);
  opened.onupgradeneeded = () => opened.result.createObjectStore("recordings");
  opened.onsuccess = () => {
    const read = opened.result.transaction("recordings").objectStore("recordings").getAll();
    read.onsuccess = () => { opened.result.close(); resolve(read.result.map((entry) => entry.blob.size)); };
  };
})"""


def test_a_chosen_file_is_described_with_its_name_size_length_and_a_player(phone):
    invite = make_invite()
    phone.goto(invite.get_absolute_url())
    phone.set_input_files("#id_recording", str(SPEECH_WAV))
    summary = phone.locator("[data-upload-summary]")
    summary.wait_for(state="visible")
    assert summary.locator("[data-upload-name]").inner_text() == "speech.wav"
    size_kb = SPEECH_WAV.stat().st_size / 1024
    assert summary.locator("[data-upload-size]").inner_text() == f"{size_kb:.1f} KB"
    media_seconds = round(StoryMedia.objects.get().duration_seconds)
    duration = summary.locator("[data-upload-duration]").inner_text()
    assert duration == f", {media_seconds // 60} min {media_seconds % 60:02d} s"
    # The player holds the chosen file and can play it.
    phone.wait_for_function("() => document.querySelector('[data-upload-player]').readyState >= 1")
    assert phone.evaluate("() => document.querySelector('[data-upload-player]').duration") > 1
    assert summary.locator("audio[controls]").is_visible()
    assert summary.bounding_box()["width"] <= 390


def test_a_recording_made_here_survives_a_reload_before_it_is_uploaded(phone):
    invite = make_invite()
    cut_off = []

    def no_connection(route):
        cut_off.append(route.request.url)
        route.abort("internetdisconnected")

    phone.route(re.compile(r".*/uploads/.*"), no_connection)
    phone.goto(invite.get_absolute_url())
    phone.click("[data-record-start]")
    phone.wait_for_function("() => document.querySelector('[data-record-time]').textContent.includes('0:02')")
    phone.click("[data-record-stop]")
    phone.wait_for_selector("[data-record-kept]:not([hidden])")
    phone.wait_for_function(
        "() => document.querySelector('[data-upload-status]').textContent !== 'Starting the upload…'"
    )
    assert cut_off, "the upload was meant to find no connection"
    kept = phone.evaluate(KEPT_RECORDING)
    assert len(kept) == 1 and kept[0] > 1000
    assert not StoryMedia.objects.exists()

    # The connection is back and the page is reloaded: the recording is still there and goes up by itself.
    phone.unroute(re.compile(r".*/uploads/.*"))
    phone.reload()
    # The page finds what it kept in the browser's own storage after it has loaded: wait until it says so.
    phone.wait_for_function(
        "() => document.querySelector('[data-record-time]').textContent.includes('kept the recording')"
    )
    assert "kept the recording" in phone.locator("[data-record-time]").inner_text()
    phone.wait_for_function("() => document.querySelector('input[name=upload_id]').value !== ''")
    phone.wait_for_selector("[data-record-kept]", state="hidden")
    assert phone.evaluate(KEPT_RECORDING) == []
    assert phone.locator("[data-upload-summary]").is_visible()
    fill_and_share(phone)
    media = StoryMedia.objects.get()
    assert media.size == kept[0]
    assert StoryPage.objects.get(title="Grandma's garden").recording == media


def test_a_recording_made_here_can_be_saved_to_the_phone(phone):
    phone.goto(make_invite().get_absolute_url())
    phone.click("[data-record-start]")
    phone.wait_for_function("() => document.querySelector('[data-record-time]').textContent.includes('0:01')")
    phone.click("[data-record-stop]")
    save = phone.get_by_role("link", name="Save the recording to this phone")
    save.wait_for(state="visible")
    with phone.expect_download() as offered:
        save.click()
    download = offered.value
    assert re.fullmatch(r"my-story-\d{4}-\d{2}-\d{2}\.(webm|ogg|m4a)", download.suggested_filename)
    assert Path(download.path()).stat().st_size > 1000


def test_guardian_fields_appear_only_for_someone_who_may_be_under_18(phone):
    phone.goto(make_invite().get_absolute_url())
    guardian = phone.locator(".share-person").first.locator("[data-guardian]")
    assert guardian.is_hidden()
    birth_year = phone.locator("#id_storytellers-0-birth_year")
    birth_year.fill("1950")
    assert guardian.is_hidden()
    birth_year.fill(str(date.today().year - 12))
    assert guardian.is_visible()
    birth_year.fill("")
    assert guardian.is_hidden()
    phone.check("#id_storytellers-0-under_18")
    assert guardian.is_visible()


def test_a_chosen_file_stays_uploaded_across_a_form_error(phone):
    invite = make_invite()
    phone.goto(invite.get_absolute_url())
    phone.set_input_files("#id_recording", str(SPEECH_WAV))
    phone.wait_for_function("() => document.querySelector('input[name=upload_id]').value !== ''")
    # A day after today passes the browser's own checks; the archive refuses it and says what to do.
    phone.fill("#id_recorded_on", (date.today() + timedelta(days=2)).isoformat())
    phone.fill("#id_title", "Grandma's garden")
    phone.fill("#id_storytellers-0-display_name", "Rose")
    phone.check('input[name="consent_scope"][value="public"]')
    phone.check("#id_consent")
    phone.click("button.share-submit")
    phone.wait_for_selector("#id_recorded_on_error")
    assert "cannot be after today" in phone.inner_text("#id_recorded_on_error")
    summary = phone.locator("[data-upload-summary]")
    assert summary.is_visible()
    assert "speech.wav" in summary.inner_text()
    phone.wait_for_function("() => document.querySelector('[data-upload-player]').readyState >= 1")

    phone.fill("#id_recorded_on", date.today().isoformat())
    phone.check("#id_consent")
    phone.click("button.share-submit")
    phone.wait_for_url(re.compile(r"/share/sent/$"))
    assert StoryMedia.objects.count() == 1
    assert StoryPage.objects.get(title="Grandma's garden").recording == StoryMedia.objects.get()
