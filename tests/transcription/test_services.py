"""Corrections, re-transcription and the reaper's rules, on real transcripts and real job rows."""

import datetime

import pytest
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from stories.models import StoryMedia
from tests.transcription.recordings import finished_transcript, samples, store, write_audio
from transcription import services
from transcription.engine import model_directory
from transcription.models import Transcript
from transcription.reaper import stale_jobs_requeue
from transcription.signals import transcript_ready


def test_a_correction_keeps_times_marks_reviewed_and_announces(django_capture_on_commit_callbacks):
    transcript = finished_transcript([(0.0, 2.0, "my grand ma kept a garden"), (2.0, 4.5, "every summer")])
    first, second = transcript.segments.order_by("index")
    heard = []
    transcript_ready.connect(lambda sender, **kw: heard.append(kw["transcript_id"]), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            changed = services.transcript_correct(
                transcript=transcript, texts={first.pk: "My grandma kept a garden.", second.pk: "every summer"}
            )
    finally:
        transcript_ready.disconnect(dispatch_uid="t")

    assert changed == 1 and heard == [transcript.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.start, first.end, first.text, first.edited) == (0.0, 2.0, "My grandma kept a garden.", True)
    assert not second.edited
    transcript.refresh_from_db()
    assert transcript.reviewed and transcript.reviewed_at


def test_transcribing_again_never_throws_away_corrections_unless_asked(tmp_path, django_capture_on_commit_callbacks):
    media = store(write_audio(tmp_path / "jfk.wav", samples("jfk"), container="wav", codec="pcm_s16le"))
    with django_capture_on_commit_callbacks(execute=True):
        corrected = services.transcript_request(media=media)
    first = corrected.segments.order_by("index").first()
    services.transcript_correct(transcript=corrected, texts={first.pk: "And so, my fellow Americans, (corrected)"})

    with pytest.raises(services.CorrectionsWouldBeLost):
        services.transcript_request(media=media)  # the same model again

    other_model = str(model_directory("tiny.en"))  # the same weights under another name: a second model
    with django_capture_on_commit_callbacks(execute=True):
        alternative = services.transcript_request(media=media, model_name=other_model)
    alternative.refresh_from_db()
    corrected.refresh_from_db()
    assert alternative.status == Transcript.Status.DONE and not alternative.is_current
    assert corrected.is_current and corrected.segments.filter(edited=True).exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.transcript_request(media=media, model_name=other_model, supersede_corrections=True)
    alternative.refresh_from_db()
    corrected.refresh_from_db()
    assert alternative.is_current and not corrected.is_current
    assert corrected.segments.filter(edited=True).exists(), "the corrected transcript is kept, just not shown"


def _running_job(transcript: Transcript, *, started_ago: float, heartbeat_ago: float) -> DBTaskResult:
    from transcription.tasks import transcribe_recording

    job = DBTaskResult.objects.get(pk=transcribe_recording.enqueue(transcript_id=transcript.pk).id)
    job.claim("worker-that-died")
    now = timezone.now()
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=now - datetime.timedelta(seconds=started_ago))
    Transcript.objects.filter(pk=transcript.pk).update(
        status=Transcript.Status.RUNNING, attempts=1, updated_at=now - datetime.timedelta(seconds=heartbeat_ago)
    )
    return job


def test_the_reaper_leaves_a_slow_job_whose_worker_still_beats(database_tasks):
    transcript = finished_transcript([], status=Transcript.Status.QUEUED, is_current=False)
    job = _running_job(transcript, started_ago=3600, heartbeat_ago=5)

    assert stale_jobs_requeue(lease=60) == 0
    job.refresh_from_db()
    assert job.status == TaskResultStatus.RUNNING


def test_the_reaper_returns_a_silent_job_to_the_queue(database_tasks):
    transcript = finished_transcript([], status=Transcript.Status.QUEUED, is_current=False)
    job = _running_job(transcript, started_ago=600, heartbeat_ago=600)

    assert stale_jobs_requeue(lease=60) == 1
    job.refresh_from_db()
    transcript.refresh_from_db()
    assert job.status == TaskResultStatus.READY and transcript.status == Transcript.Status.QUEUED
    assert DBTaskResult.objects.ready().filter(pk=job.pk).exists()


def test_the_reaper_gives_up_on_a_recording_that_kills_its_worker_every_time(database_tasks, settings):
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 1
    transcript = finished_transcript([], status=Transcript.Status.QUEUED, is_current=False)
    job = _running_job(transcript, started_ago=600, heartbeat_ago=600)

    assert stale_jobs_requeue(lease=60) == 0
    job.refresh_from_db()
    transcript.refresh_from_db()
    assert job.status == TaskResultStatus.FAILED
    assert transcript.status == Transcript.Status.FAILED and "stopped" in transcript.error


def test_the_reaper_drops_a_job_whose_transcript_was_deleted_while_its_worker_still_runs_it(database_tasks):
    """The recording (and with it the transcript) is deleted mid-run: nothing is left to make, so the job ends,
    failed with that reason, instead of going back to the queue for another worker to pick up."""
    gone = finished_transcript([], status=Transcript.Status.QUEUED, is_current=False)
    dropped = _running_job(gone, started_ago=600, heartbeat_ago=5)
    control = _running_job(
        finished_transcript([], status=Transcript.Status.QUEUED, is_current=False), started_ago=600, heartbeat_ago=600
    )
    StoryMedia.objects.filter(pk=gone.media_id).delete()
    assert not Transcript.objects.filter(pk=gone.pk).exists()

    assert stale_jobs_requeue(lease=60) == 1, "only the control, whose transcript exists, goes back to the queue"
    dropped.refresh_from_db()
    control.refresh_from_db()
    assert dropped.status == TaskResultStatus.FAILED and dropped.finished_at
    assert "transcript was deleted" in dropped.traceback
    assert dropped.exception_class_path == "transcription.reaper.TranscriptGone"
    assert not DBTaskResult.objects.ready().filter(pk=dropped.pk).exists()
    assert control.status == TaskResultStatus.READY

    assert stale_jobs_requeue(lease=60) == 0, "a dropped job is not taken back later either"
    dropped.refresh_from_db()
    assert dropped.status == TaskResultStatus.FAILED
