"""Recordings are served privately, after the visibility rule, with byte ranges players can seek with."""

import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from stories.factories import public_story
from stories.media import recording_store
from stories.models import StoryPage, Visibility, private_storage
from stories.serving import MAX_RANGES
from stories.storage import local_copy
from tests.responses import body
from transcription.playback import access_copy_write
from transcription.services import recording_prepare_playback

from .test_intake_support import SPEECH_WAV


def _access_copy_bytes() -> bytes:
    """The listening copy the worker makes of the fixture: the same bytes every time."""
    with tempfile.TemporaryDirectory() as folder:
        destination = Path(folder) / "access.m4a"
        access_copy_write(source=SPEECH_WAV, destination=destination)
        return destination.read_bytes()


BYTES = _access_copy_bytes()
SIZE = len(BYTES)
ORIGINAL = SPEECH_WAV.read_bytes()


def stored_recording():
    """A kept recording whose access copy the worker has made."""
    with open(SPEECH_WAV, "rb") as source:
        media = recording_store(source=source, original_filename="speech.wav")
    with local_copy(private_storage(), media.file.name) as path:
        recording_prepare_playback(media=media, path=path)
    media.refresh_from_db()
    return media


@pytest.fixture
def public_recording_url():
    media = stored_recording()
    public_story(recording=media)
    return reverse("stories:recording", args=[media.id, "access"])


@pytest.fixture
def private_recording_url():
    media = stored_recording()
    public_story(recording=media, visibility=Visibility.PRIVATE)
    return reverse("stories:recording", args=[media.id, "access"])


def test_a_public_recording_is_served_whole_with_validators(client, public_recording_url):
    response = client.get(public_recording_url)
    assert response.status_code == 200
    assert body(response) == BYTES
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "audio/mp4"
    assert "ETag" in response
    assert response["Cache-Control"] == "no-cache"


def test_a_range_gets_206_with_the_right_content_range(client, public_recording_url):
    response = client.get(public_recording_url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{SIZE}"
    assert response["Content-Length"] == "100"
    assert body(response) == BYTES[100:200]


def test_safari_probe_and_open_ended_and_suffix_ranges(client, public_recording_url):
    probe = client.get(public_recording_url, headers={"Range": "bytes=0-1"})
    assert (probe.status_code, body(probe), probe["Content-Range"]) == (206, BYTES[:2], f"bytes 0-1/{SIZE}")
    rest = client.get(public_recording_url, headers={"Range": "bytes=1000-"})
    assert body(rest) == BYTES[1000:]
    assert rest["Content-Range"] == f"bytes 1000-{SIZE - 1}/{SIZE}"
    tail = client.get(public_recording_url, headers={"Range": "bytes=-500"})
    assert body(tail) == BYTES[-500:]
    beyond = client.get(public_recording_url, headers={"Range": f"bytes=10-{SIZE * 2}"})
    assert beyond["Content-Range"] == f"bytes 10-{SIZE - 1}/{SIZE}"


def test_an_unsatisfiable_range_gets_416(client, public_recording_url):
    response = client.get(public_recording_url, headers={"Range": f"bytes={SIZE}-"})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


def test_overlapping_ranges_are_merged_into_one(client, public_recording_url):
    response = client.get(public_recording_url, headers={"Range": "bytes=0-99,50-149,150-199"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-199/{SIZE}"
    assert body(response) == BYTES[:200]


def test_many_ranges_get_the_whole_file_once_not_a_multiplied_answer(client, public_recording_url):
    many = ",".join(["0-"] * 200)
    response = client.get(public_recording_url, headers={"Range": f"bytes={many}"})
    assert response.status_code == 200
    assert body(response) == BYTES
    few_apart = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(MAX_RANGES))
    apart = client.get(public_recording_url, headers={"Range": f"bytes={few_apart}"})
    assert apart.status_code == 200
    assert len(body(apart)) == SIZE


def test_a_malformed_range_is_ignored(client, public_recording_url):
    response = client.get(public_recording_url, headers={"Range": "bytes=abc"})
    assert response.status_code == 200
    assert body(response) == BYTES


def test_a_public_recording_answers_304_to_its_etag(client, public_recording_url):
    etag = client.get(public_recording_url)["ETag"]
    assert client.get(public_recording_url, headers={"If-None-Match": etag}).status_code == 304


def test_an_anonymous_request_for_a_restricted_recording_gets_404_without_validators(client, private_recording_url):
    for headers in ({}, {"If-None-Match": "*"}, {"If-Match": '"nope"'}, {"Range": "bytes=0-1"}):
        response = client.get(private_recording_url, headers=headers)
        assert response.status_code == 404
        assert "ETag" not in response and "Last-Modified" not in response
        assert response.status_code not in (304, 412)


def test_an_editor_gets_a_restricted_recording_private_and_without_etag(client, private_recording_url, admin_user):
    # A private story is sealed: its editors are the administrators (tests/stories/test_facilitator_communities.py).
    client.force_login(admin_user)
    response = client.get(private_recording_url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response["Cache-Control"] == "private, no-store"
    assert "ETag" not in response and "Last-Modified" not in response
    again = client.get(private_recording_url, headers={"If-None-Match": "*"})
    assert again.status_code == 200


def test_a_draft_recording_is_hidden_from_the_public(client):
    media = stored_recording()
    story = public_story(recording=media)
    StoryPage.objects.get(pk=story.pk).unpublish()
    assert client.get(reverse("stories:recording", args=[media.id, "original"])).status_code == 404


def test_an_unknown_variant_is_not_found(client, public_recording_url):
    assert client.get(public_recording_url.replace("/access", "/../../settings")).status_code == 404


def test_nginx_can_serve_the_bytes_after_the_check(client, settings, public_recording_url, private_recording_url):
    settings.STORY_MEDIA_ACCEL_REDIRECT = "/_recordings/"
    response = client.get(public_recording_url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"].startswith("/_recordings/recordings/")
    assert response["X-Accel-Redirect"].endswith("/access.m4a")
    assert response.content == b""
    assert client.get(private_recording_url).status_code == 404


def test_the_preservation_master_is_not_served_to_the_public(client, public_recording_url, facilitator):
    """The original may carry location and comment tags; the public gets the access copy, editors the original."""
    original_url = public_recording_url.replace("/access", "/original")

    assert client.get(original_url).status_code == 404

    client.force_login(facilitator)
    response = client.get(original_url)
    assert response.status_code == 200
    assert body(response) == ORIGINAL
