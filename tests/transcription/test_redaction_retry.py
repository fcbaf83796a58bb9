"""A redaction holds when the worker cannot make its copies: the failure is recorded and shown to facilitators (the
redactions and transcript pages, the header button, the report of unfinished jobs) with "Try again"; a passing
problem (a full disk) is tried again after a pause, a bounded number of times; a copy left running by a killed worker
is taken back by the reaper. Throughout, the public is told the recording is being prepared and never hears the
passage. Every check of silence has its control: the passage heard before the redaction."""

import errno
from pathlib import Path

import numpy as np
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from stories.factories import CommunityFactory, public_story
from stories.models import StoryMedia, private_storage
from tests.stories.test_facilitator_communities import make_facilitator
from transcription import services
from transcription.models import RedactionRemake
from transcription.reaper import stale_jobs_requeue
from transcription.tasks import redact_recording

from .recordings import AUDIO, finished_transcript, recordings_not_transcribed, store
from .test_redaction_sound import EDGE, HEARD, SECRET, SILENT, SPAN, heard, redact, rms

Status = RedactionRemake.Status
NOT_MADE = "The listening copy was not made again after a redaction"


def run_ready_jobs(capture) -> None:
    """What `db_worker --batch` does: run every queued job whose time has come, marking it as it ends; what a job
    queues when it commits is queued."""
    while (job := DBTaskResult.objects.ready().first()) is not None:
        job.claim("test-worker")
        with capture(execute=True):
            try:
                job.set_successful(job.task.call(*job.task_result.args, **job.task_result.kwargs))
            except Exception as error:
                job.set_failed(error)


def the_pause_is_over() -> None:
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())


def told_as_public_hears_it(client, media: StoryMedia) -> tuple[int, bytes]:
    answer = client.get(f"/recordings/{media.pk}/access")
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    return answer.status_code, body


def assert_being_prepared(client, story, media) -> None:
    """The public hears nothing of the recording and is told it is being prepared."""
    status, body = told_as_public_hears_it(client, media)
    assert status == 503 and b"being prepared" in body
    assert "This recording is being prepared for listening" in client.get(story.url).content.decode()


def redactions_page(client, story) -> str:
    return client.get(reverse("transcription_admin:redactions", args=[story.pk])).content.decode()


def try_again(client, story, capture, **data):
    with capture(execute=True):
        return client.post(reverse("transcription_admin:redaction-try-again", args=[story.pk]), data)


def test_a_damaged_original_fails_at_once_says_why_and_try_again_makes_the_silent_copy_once_it_is_put_right(
    client, facilitator, told, tmp_path, django_capture_on_commit_callbacks
):
    story, media = told()
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) > HEARD  # the control: heard before
    original = Path(private_storage().path(media.file.name))
    kept = original.read_bytes()
    original.write_bytes(np.random.default_rng(3).integers(0, 256, 40_000, dtype=np.uint8).tobytes())

    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start=SPAN[0], end=SPAN[1], reason="Names a neighbour")

    remake = RedactionRemake.objects.get(media=media)
    assert remake.status == Status.FAILED and remake.attempts == 1, "a file that cannot be read is not tried again"
    page = redactions_page(client, story)
    assert NOT_MADE in page and "Try again" in page and "Put the original right" in page
    transcript_page = client.get(reverse("transcription_admin:story", args=[story.pk])).content.decode()
    assert NOT_MADE in transcript_page and "Try again" in transcript_page
    assert "Recording: redacted copy not made (failed)" in client.get(f"/admin/pages/{story.pk}/edit/").content.decode()
    report = client.get(reverse("transcription_admin:unfinished")).content.decode()
    assert story.title in report and "Put the original right" in report
    client.logout()
    assert_being_prepared(client, story, media)

    original.write_bytes(kept)  # put back from a backup
    client.force_login(facilitator)
    answer = try_again(client, story, django_capture_on_commit_callbacks, back="transcript")
    assert answer.url == reverse("transcription_admin:story", args=[story.pk])
    assert NOT_MADE not in redactions_page(client, story)
    client.logout()

    remake.refresh_from_db()
    assert remake.status == Status.DONE and remake.error == "" and remake.attempts == 1
    sound = heard(client, media, tmp_path)
    assert rms(sound, SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT and rms(sound, 0, SPAN[0] - EDGE) > HEARD
    assert "This recording is being prepared" not in client.get(story.url).content.decode()


def test_a_full_disk_is_tried_again_after_a_pause_a_bounded_number_of_times_and_the_public_hears_nothing_meanwhile(
    client, facilitator, told, tmp_path, monkeypatch, settings, database_tasks, django_capture_on_commit_callbacks
):
    story, media = told()
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 2
    real = services.access_copy_write

    def disk_full(**kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services, "access_copy_write", disk_full)
    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start=SPAN[0], end=SPAN[1], reason="Names a neighbour")
    run_ready_jobs(django_capture_on_commit_callbacks)

    remake = RedactionRemake.objects.get(media=media)
    assert remake.status == Status.QUEUED and remake.attempts == 1
    assert "Will try again" in remake.error and "No space left on device" in remake.error
    [retry] = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert retry.run_after > timezone.now() and not DBTaskResult.objects.ready().exists(), "it waits before it runs"
    assert "No space left on device" in redactions_page(client, story) and "Try again" not in redactions_page(
        client, story
    )
    client.logout()
    assert_being_prepared(client, story, media)

    the_pause_is_over()
    run_ready_jobs(django_capture_on_commit_callbacks)
    remake.refresh_from_db()
    assert remake.status == Status.FAILED and remake.attempts == 2
    assert "failed 2 times and has stopped trying" in remake.error
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists(), "no third try by itself"
    assert_being_prepared(client, story, media)

    monkeypatch.setattr(services, "access_copy_write", real)  # room on the disk again
    client.force_login(facilitator)
    page = redactions_page(client, story)
    assert NOT_MADE in page and "Try again" in page
    try_again(client, story, django_capture_on_commit_callbacks)
    run_ready_jobs(django_capture_on_commit_callbacks)
    client.logout()

    remake.refresh_from_db()
    assert remake.status == Status.DONE and remake.attempts == 1
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT


def _left_running_by_a_dead_worker(media: StoryMedia, *, heartbeat_ago: float) -> DBTaskResult:
    """The remaking's job claimed and its row marked running, as a worker does before it is killed."""
    [job] = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=redact_recording.module_path)
    job.claim("worker-that-died")
    assert services._remake_claim(media.pk) is not None
    long_ago = timezone.now() - timezone.timedelta(seconds=600)
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=long_ago)
    RedactionRemake.objects.filter(pk=media.pk).update(
        updated_at=timezone.now() - timezone.timedelta(seconds=heartbeat_ago)
    )
    return job


def test_copies_left_running_by_a_killed_worker_are_taken_back_by_the_reaper_and_made(
    client, facilitator, told, tmp_path, database_tasks, django_capture_on_commit_callbacks
):
    story, media = told()
    with django_capture_on_commit_callbacks(execute=True):
        services.redaction_create(media=media, start=SPAN[0], end=SPAN[1], reason="Names a neighbour", user=facilitator)
    job = _left_running_by_a_dead_worker(media, heartbeat_ago=5)

    assert stale_jobs_requeue(lease=60) == 0, "the control: a worker that still beats keeps its job"
    RedactionRemake.objects.filter(pk=media.pk).update(updated_at=timezone.now() - timezone.timedelta(seconds=600))
    assert stale_jobs_requeue(lease=60) == 1
    job.refresh_from_db()
    assert job.status == TaskResultStatus.READY
    assert RedactionRemake.objects.get(media=media).status == Status.QUEUED
    assert_being_prepared(client, story, media)

    run_ready_jobs(django_capture_on_commit_callbacks)
    remake = RedactionRemake.objects.get(media=media)
    assert remake.status == Status.DONE and remake.attempts == 2
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT


def test_the_reaper_gives_up_on_copies_that_kill_their_worker_every_time_and_says_so(
    client, facilitator, told, settings, database_tasks, django_capture_on_commit_callbacks
):
    story, media = told()
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        services.redaction_create(media=media, start=SPAN[0], end=SPAN[1], reason="Names a neighbour", user=facilitator)
    job = _left_running_by_a_dead_worker(media, heartbeat_ago=600)

    assert stale_jobs_requeue(lease=60) == 0
    job.refresh_from_db()
    assert job.status == TaskResultStatus.FAILED and job.exception_class_path == "transcription.reaper.WorkerLost"
    remake = RedactionRemake.objects.get(media=media)
    assert remake.status == Status.FAILED and "The worker stopped 1 times" in remake.error
    client.force_login(facilitator)
    assert "Try again" in redactions_page(client, story)
    client.logout()
    assert_being_prepared(client, story, media)


def test_a_facilitator_of_another_community_cannot_try_again(
    client, django_user_model, django_capture_on_commit_callbacks
):
    """Named negative test: "Try again" answers 404 outside the facilitator's communities, as a missing story does,
    and queues nothing; the story's own facilitator (the control) queues it."""
    elm, riverside = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    with recordings_not_transcribed():
        media = store(AUDIO / "jfk.ogg")
    story = public_story(title="Ask not", recording=media, community=elm)
    finished_transcript([(3.0, 6.0, f"ask not {SECRET}")], media=media)
    RedactionRemake.objects.create(media=media, status=Status.FAILED, attempts=1, error="The disk was full.")

    client.force_login(make_facilitator(django_user_model, "riverside", riverside))
    answer = try_again(client, story, django_capture_on_commit_callbacks)
    assert answer.status_code == 404 and "Ask not" not in answer.content.decode()
    assert RedactionRemake.objects.get(media=media).status == Status.FAILED

    client.force_login(make_facilitator(django_user_model, "elm", elm))
    try_again(client, story, django_capture_on_commit_callbacks)
    assert RedactionRemake.objects.get(media=media).status == Status.DONE
