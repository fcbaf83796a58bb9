"""Resumable uploads: a large recording survives a dropped connection and is stored whole, byte for byte."""

import hashlib
import json
import os
import tracemalloc
import wave

import pytest
from django.test import Client
from django.test.client import ClientHandler, RequestFactory
from django.urls import reverse

from stories.models import ShareUpload, StoryMedia, StoryPage, private_storage
from stories.services import share_upload_path

from .test_intake_support import (  # noqa: F401
    SPEECH_WAV,
    fresh_rate_limits,
    make_invite,
    private_files,
    share_data,
    share_url,
)

MB = 1024 * 1024


class BodyFromFile:
    """A request body read from a file; with cut_after it breaks partway, as when a phone loses its signal."""

    def __init__(self, path, start=0, cut_after=None):
        self.file = open(path, "rb")  # noqa: SIM115 - closed by the test after the request
        self.file.seek(start)
        self.cut_after = cut_after
        self.sent = 0

    def read(self, size=-1):
        if self.cut_after is not None and self.sent >= self.cut_after:
            raise OSError("Connection reset by peer")
        if self.cut_after is not None:
            size = min(size if size >= 0 else self.cut_after, self.cut_after - self.sent)
        chunk = self.file.read(size)
        self.sent += len(chunk)
        return chunk

    def readline(self, size=-1):
        return self.read(size)

    def close(self):
        self.file.close()


def send_body(path_info, body, length, **headers):
    """Send a PATCH through the whole middleware stack with a streamed body, as a WSGI server would."""
    environ = RequestFactory()._base_environ(
        PATH_INFO=path_info,
        REQUEST_METHOD="PATCH",
        CONTENT_LENGTH=str(length),
        CONTENT_TYPE="application/offset+octet-stream",
        **{"wsgi.input": body},
        **headers,
    )
    try:
        response = ClientHandler(enforce_csrf_checks=False)(environ)
    finally:
        body.close()
    response.json = lambda: json.loads(response.content)
    return response


def write_long_recording(path, size_bytes):
    """A valid WAV of about size_bytes: noise, so no two megabytes are alike."""
    frames_left = (size_bytes - 44) // 2
    with wave.open(str(path), "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(48000)
        noise = os.urandom(MB)
        while frames_left > 0:
            block = noise[: min(len(noise), frames_left * 2)]
            recording.writeframes(block)
            frames_left -= len(block) // 2
            noise = noise[1:] + noise[:1]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stored:
        while chunk := stored.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def start_upload(client, invite, length, name="interview.wav"):
    return client.post(
        reverse("stories:share-uploads", args=[invite.token]),
        headers={"Upload-Length": str(length), "Upload-Filename": name},
    )


def test_a_200_mb_upload_cut_off_midway_resumes_and_matches_its_sha256(client, tmp_path):
    recording = tmp_path / "long-interview.wav"
    write_long_recording(recording, 200 * MB)
    length = recording.stat().st_size
    expected = sha256_of(recording)
    invite = make_invite()

    started = start_upload(client, invite, length)
    assert started.status_code == 201
    url = started.json()["url"]

    # The connection drops a little past halfway: what arrived is kept.
    cut = 100 * MB + 12345
    tracemalloc.start()
    send_body(url, BodyFromFile(recording, cut_after=cut), length, HTTP_UPLOAD_OFFSET="0")
    first_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    where = client.head(url)
    assert int(where["Upload-Offset"]) == cut
    assert client.get(url).json() == {
        "id": str(ShareUpload.objects.get().id),
        "url": url,
        "offset": cut,
        "length": length,
        "complete": False,
    }

    # A piece sent for the wrong place is told where to resume.
    wrong = send_body(url, BodyFromFile(recording, start=0), length, HTTP_UPLOAD_OFFSET="0")
    assert wrong.status_code == 409
    assert wrong.json()["offset"] == cut

    tracemalloc.start()
    finished = send_body(url, BodyFromFile(recording, start=cut), length - cut, HTTP_UPLOAD_OFFSET=str(cut))
    second_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert finished.status_code == 200, finished.content
    assert finished.json()["complete"] is True

    media = StoryMedia.objects.get()
    assert media.size == length
    assert media.sha256 == expected
    assert sha256_of(private_storage().path(media.file.name)) == expected
    assert media.original_filename == "interview.wav"
    assert not share_upload_path(ShareUpload.objects.get()).exists()
    # The web process streamed the file; it never held it, or even a sizeable part of it, in memory.
    assert max(first_peak, second_peak) < 32 * MB

    shared = client.post(share_url(invite), share_data(text="", upload_id=str(ShareUpload.objects.get().id)))
    assert shared.status_code == 302
    assert StoryPage.objects.get(title="The garden on Elm Street").recording == media


def test_an_upload_announced_over_the_limit_is_refused_with_413(client, settings):
    settings.STORY_UPLOAD_MAX_BYTES = 10 * MB
    response = start_upload(client, make_invite(), 10 * MB + 1)
    assert response.status_code == 413
    assert "larger than the archive accepts" in response.json()["error"]
    assert not ShareUpload.objects.exists()


def test_more_bytes_than_announced_are_refused_and_nothing_is_kept(client):
    invite = make_invite()
    size = SPEECH_WAV.stat().st_size
    url = start_upload(client, invite, size - 100).json()["url"]
    part = share_upload_path(ShareUpload.objects.get())
    response = send_body(url, BodyFromFile(SPEECH_WAV), size, HTTP_UPLOAD_OFFSET="0")
    assert response.status_code == 413
    assert not ShareUpload.objects.exists()
    assert not part.exists()


def test_a_completed_upload_that_is_not_a_recording_leaves_nothing_behind(client, tmp_path):
    page = tmp_path / "story.mp4"
    page.write_bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>" * 50)
    invite = make_invite()
    url = start_upload(client, invite, page.stat().st_size, name="story.mp4").json()["url"]
    part = share_upload_path(ShareUpload.objects.get())
    before = private_files() - {part}
    response = send_body(url, BodyFromFile(page), page.stat().st_size, HTTP_UPLOAD_OFFSET="0")
    assert response.status_code == 422
    assert "not an audio or video recording" in response.json()["error"]
    assert not ShareUpload.objects.exists()
    assert not StoryMedia.objects.exists()
    assert not part.exists()
    assert private_files() == before


def test_pieces_need_the_csrf_token(tmp_path):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("stories:share-uploads", args=[make_invite().token]), headers={"Upload-Length": "10"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("method", ["head", "get"])
def test_an_upload_under_another_invite_is_not_found(client, method):
    mine, other = make_invite(), make_invite()
    upload_id = start_upload(client, mine, 1000).json()["id"]
    response = getattr(client, method)(reverse("stories:share-upload", args=[other.token, upload_id]))
    assert response.status_code == 404


def test_a_piece_racing_another_for_the_same_place_is_told_to_wait(client):
    import fcntl

    invite = make_invite()
    size = SPEECH_WAV.stat().st_size
    url = start_upload(client, invite, size).json()["url"]
    part = share_upload_path(ShareUpload.objects.get())
    with open(part, "ab") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)  # as the first request would while it writes
        response = send_body(url, BodyFromFile(SPEECH_WAV), size, HTTP_UPLOAD_OFFSET="0")
    assert response.status_code == 409
    assert response.json()["offset"] == 0
    assert part.stat().st_size == 0


def test_a_lost_upload_is_refused_rather_than_resumed_for_ever(client):
    invite = make_invite()
    url = start_upload(client, invite, 100).json()["url"]
    share_upload_path(ShareUpload.objects.get()).unlink()
    response = send_body(url, BodyFromFile(SPEECH_WAV, cut_after=10), 10, HTTP_UPLOAD_OFFSET="0")
    assert response.status_code == 422
    assert not ShareUpload.objects.exists()
