"""Take back jobs that a killed worker left marked running: transcriptions, and the making again of a recording's
copies after a redaction.

django_tasks_db's worker marks a job running when it claims it and never hears of it again if the process is killed
(SIGKILL, OOM, power loss). The job's row (a transcript, a recording's RedactionRemake) beats while someone works on
it; after a lease with no heartbeat the job goes back to the queue, or fails once it has used up its attempts. A job
whose row was deleted meanwhile (its recording or story removed) is dropped with that reason: there is nothing left
to make.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from stories.models import StoryMedia

from .models import RedactionRemake, Transcript
from .services import lease_seconds, max_attempts, redaction_remake_fail
from .tasks import redact_recording, transcribe_recording

logger = logging.getLogger(__name__)


class WorkerLost(RuntimeError):
    """Recorded as the failure of a job whose worker died too many times."""


class TranscriptGone(RuntimeError):
    """Recorded as the end of a job whose transcript was deleted while it was running."""


class RecordingGone(RuntimeError):
    """Recorded as the end of a job whose recording was deleted while its copies were being made again."""


@dataclass(frozen=True)
class _LeasedWork:
    """One kind of job the reaper looks after: its task, how to find (and lock) its row from the job's arguments,
    what to say when the row is gone, and how to give up on it."""

    task_path: str
    row: Callable[[dict], Model | None]
    gone: type[RuntimeError]
    gone_reason: str
    give_up: Callable[[Model], str]


def _transcript(kwargs: dict) -> Transcript | None:
    return Transcript.objects.select_for_update().filter(pk=kwargs.get("transcript_id")).first()


def _transcript_give_up(transcript: Transcript) -> str:
    transcript.status = Transcript.Status.FAILED
    transcript.error = (
        f"The worker stopped {transcript.attempts} times while transcribing this recording, so it has stopped "
        "trying. The recording may be too long for this server's memory."
    )
    transcript.finished_at = timezone.now()
    transcript.save(update_fields=["status", "error", "finished_at", "updated_at"])
    return transcript.error


def _remake(kwargs: dict) -> RedactionRemake | None:
    media_id = kwargs.get("media_id")
    if not StoryMedia.objects.filter(pk=media_id).exists():
        return None
    RedactionRemake.objects.get_or_create(media_id=media_id)  # a job queued before remakings had a state
    return RedactionRemake.objects.select_for_update().get(pk=media_id)


def _remake_give_up(remake: RedactionRemake) -> str:
    reason = (
        f"The worker stopped {remake.attempts} times while making the listening copy again after a redaction, so "
        "it has stopped trying. The recording may be too long for this server's memory; use “Try again” once it "
        "has more."
    )
    redaction_remake_fail(media_id=remake.pk, version=remake.version, reason=reason)
    return reason


LEASED_WORK = (
    _LeasedWork(
        task_path=transcribe_recording.module_path,
        row=_transcript,
        gone=TranscriptGone,
        gone_reason="Its transcript was deleted (the recording or its story was removed): nothing to make.",
        give_up=_transcript_give_up,
    ),
    _LeasedWork(
        task_path=redact_recording.module_path,
        row=_remake,
        gone=RecordingGone,
        gone_reason="Its recording was deleted (or its story removed): nothing to make.",
        give_up=_remake_give_up,
    ),
)


def _job_drop(job: DBTaskResult, *, error: type[RuntimeError], reason: str) -> None:
    """End a job for good: failed, with the reason a person reads in the task admin; it is never run again."""
    job.status = TaskResultStatus.FAILED
    job.finished_at = timezone.now()
    job.exception_class_path = f"{error.__module__}.{error.__qualname__}"
    job.traceback = reason
    job.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])


def stale_jobs_requeue(*, lease: float | None = None) -> int:
    """Return jobs whose worker went quiet for longer than the lease; how many were taken back."""
    lease = lease_seconds() if lease is None else lease
    cutoff = timezone.now() - datetime.timedelta(seconds=lease)
    work = {kind.task_path: kind for kind in LEASED_WORK}
    stale_ids = list(
        DBTaskResult.objects.running()
        .filter(task_path__in=list(work), started_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    taken_back = 0
    for job_id in stale_ids:
        with transaction.atomic():
            job = DBTaskResult.objects.select_for_update().filter(pk=job_id, status=TaskResultStatus.RUNNING).first()
            if job is None:
                continue
            kind = work[job.task_path]
            row = kind.row(job.args_kwargs.get("kwargs", {}))
            if row is None:
                _job_drop(job, error=kind.gone, reason=kind.gone_reason)
                logger.warning("job %s dropped: %s", job.pk, kind.gone_reason)
                continue
            if row.status == row.Status.RUNNING and row.updated_at > cutoff:
                continue  # its worker is alive and still beating
            if row.status == row.Status.RUNNING:
                if row.attempts >= max_attempts():
                    _job_drop(job, error=WorkerLost, reason=kind.give_up(row))
                    logger.warning("job %s failed: its worker was lost %s times", job.pk, row.attempts)
                    continue
                row.status = row.Status.QUEUED
                row.save(update_fields=["status", "updated_at"])
            job.status = TaskResultStatus.READY
            job.started_at = None
            job.run_after = timezone.now()
            job.save(update_fields=["status", "started_at", "run_after"])
            taken_back += 1
            logger.warning("job %s went back to the queue: its worker went quiet for over %.0f s", job.pk, lease)
    return taken_back
