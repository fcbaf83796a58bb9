"""Nothing unconsented is processed: an upload is copied and transcribed only once its story is submitted with consent,
and an upload nobody submits is deleted within the hour."""

import datetime
import os
from pathlib import Path

import time_machine
from django.core.management import call_command
from django.utils import timezone

from stories.media import recording_folder
from stories.models import ShareUpload, StoryMedia, StoryPage, private_storage
from stories.services import share_upload_path
from transcription.models import Transcript

from .test_intake_resumable import BodyFromFile, send_body, start_upload
from .test_intake_support import (  # noqa: F401
    SPEECH_WAV,
    fresh_rate_limits,
    make_invite,
    private_files,
    share_data,
    share_url,
)

SIZE = SPEECH_WAV.stat().st_size


def uploaded(client, invite, *, cut_after: int | None = None) -> ShareUpload:
    """Send the speech recording through the resumable upload, whole or cut off after some bytes."""
    url = start_upload(client, invite, SIZE).json()["url"]
    body = BodyFromFile(SPEECH_WAV, cut_after=cut_after)
    response = send_body(url, body, cut_after or SIZE, HTTP_UPLOAD_OFFSET="0")
    assert response.status_code == 200, response.content
    return ShareUpload.objects.select_related("recording").get(pk=response.json()["id"])


def recording_files(media: StoryMedia) -> set[str]:
    folder = Path(private_storage().location) / recording_folder(media.pk)
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def submit(client, invite, upload: ShareUpload, title: str):
    data = share_data(title=title, text="", upload_id=str(upload.pk))
    response = client.post(share_url(invite), data)
    assert response.status_code == 302, response.content
    return StoryPage.objects.get(title=title)


def sweep_at(moment: datetime.datetime) -> None:
    """Run the sweep the way production does, with the clock at `moment`."""
    with time_machine.travel(moment, tick=False):
        call_command("queue_upload_sweep", stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_an_upload_never_submitted_is_neither_copied_nor_transcribed(client, django_capture_on_commit_callbacks):
    """Only the story submitted with consent gets an access copy and a transcript; the other upload gets neither."""
    invite = make_invite()
    with django_capture_on_commit_callbacks(execute=True):
        kept_back = uploaded(client, invite)
        submitted = uploaded(client, invite)
    assert kept_back.recording and submitted.recording  # both were stored and probed
    assert recording_files(kept_back.recording) == {"original.wav"}
    assert not Transcript.objects.exists()  # not even for the one about to be submitted

    with django_capture_on_commit_callbacks(execute=True):
        story = submit(client, invite, submitted, "Bus stops we remember")

    assert story.recording_id == submitted.recording_id
    shared, unshared = (StoryMedia.objects.get(pk=u.recording_id) for u in (submitted, kept_back))
    # Control: the submitted recording is copied and transcribed at once, through the same worker.
    assert shared.access_copy and "access.m4a" in recording_files(shared)
    assert Transcript.objects.get(media=shared).status == Transcript.Status.DONE
    # The upload nobody submitted: stored, but never copied, never transcribed, no job queued for it.
    assert not unshared.access_copy and recording_files(unshared) == {"original.wav"}
    assert not Transcript.objects.filter(media=unshared).exists()
    assert Transcript.objects.count() == 1 and StoryMedia.objects.exclude(access_copy="").count() == 1


def test_an_abandoned_upload_is_deleted_within_the_hour(client, django_capture_on_commit_callbacks):
    """Sweeping every quarter hour, as `make run` and the documented cron line do, deletes files and rows in time."""
    invite = make_invite()
    started = timezone.now()
    whole = uploaded(client, invite)
    half = uploaded(client, invite, cut_after=SIZE // 2)
    with django_capture_on_commit_callbacks(execute=True):
        kept = submit(client, invite, uploaded(client, invite), "The garden on Elm Street")
    abandoned_files = {
        share_upload_path(half),
        *(Path(private_storage().location) / recording_folder(whole.recording_id)).iterdir(),
    }
    assert abandoned_files <= private_files()

    gone_at = None
    for minutes in range(15, 61, 15):
        sweep_at(started + datetime.timedelta(minutes=minutes))
        if minutes <= 30:  # control: an upload may still be on its way, and the sweep leaves it alone
            assert ShareUpload.objects.count() == 3 and abandoned_files <= private_files()
        if gone_at is None and ShareUpload.objects.count() == 1:
            gone_at = minutes
    assert gone_at is not None and gone_at <= 60

    assert not ShareUpload.objects.filter(pk__in=[whole.pk, half.pk]).exists()
    assert not StoryMedia.objects.filter(pk=whole.recording_id).exists()
    assert not abandoned_files & private_files()
    kept.refresh_from_db()
    assert kept.recording.access_copy and Path(kept.recording.file.path).exists()
    assert StoryMedia.objects.count() == 1


def test_an_upload_still_receiving_pieces_is_not_swept(client):
    """Only idleness makes an upload abandoned: a long recording on a slow line keeps its bytes."""
    invite = make_invite()
    started = timezone.now()
    slow = uploaded(client, invite, cut_after=SIZE // 3)
    stalled = uploaded(client, invite, cut_after=SIZE // 3)
    # A piece reached the slow upload fifty minutes in: the file's time is when its last piece was written.
    last_piece = (started + datetime.timedelta(minutes=50)).timestamp()
    os.utime(share_upload_path(slow), (last_piece, last_piece))

    sweep_at(started + datetime.timedelta(minutes=60))

    assert list(ShareUpload.objects.values_list("pk", flat=True)) == [slow.pk]
    assert share_upload_path(slow).stat().st_size == SIZE // 3
    assert not share_upload_path(stalled).exists()  # control: the upload that stopped is gone
