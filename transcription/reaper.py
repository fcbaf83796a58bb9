"""Take back jobs that a killed worker left marked running.

django_tasks_db's worker marks a job running when it claims it and never hears of it again if the process is killed
(SIGKILL, OOM, power loss). A transcript's heartbeat says whether someone is still working on it; after a lease with
no heartbeat the job goes back to the queue, or fails once it has used up its attempts. A job whose transcript was
deleted meanwhile (its recording or story removed) is dropped with that reason: there is nothing left to make.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import Transcript
from .services import lease_seconds, max_attempts
from .tasks import transcribe_recording

logger = logging.getLogger(__name__)


class WorkerLost(RuntimeError):
    """Recorded as the failure of a job whose worker died too many times."""


class TranscriptGone(RuntimeError):
    """Recorded as the end of a job whose transcript was deleted while it was running."""


def _job_drop(job: DBTaskResult, *, error: type[RuntimeError], reason: str) -> None:
    """End a job for good: failed, with the reason a person reads in the task admin; it is never run again."""
    job.status = TaskResultStatus.FAILED
    job.finished_at = timezone.now()
    job.exception_class_path = f"{error.__module__}.{error.__qualname__}"
    job.traceback = reason
    job.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])


def stale_jobs_requeue(*, lease: float | None = None) -> int:
    """Return transcription jobs whose worker went quiet for longer than the lease; how many were taken back."""
    lease = lease_seconds() if lease is None else lease
    cutoff = timezone.now() - datetime.timedelta(seconds=lease)
    stale_ids = list(
        DBTaskResult.objects.running()
        .filter(task_path=transcribe_recording.module_path, started_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    taken_back = 0
    for job_id in stale_ids:
        with transaction.atomic():
            job = DBTaskResult.objects.select_for_update().filter(pk=job_id, status=TaskResultStatus.RUNNING).first()
            if job is None:
                continue
            transcript_id = job.args_kwargs.get("kwargs", {}).get("transcript_id")
            transcript = Transcript.objects.select_for_update().filter(pk=transcript_id).first()
            if transcript is None:
                _job_drop(
                    job,
                    error=TranscriptGone,
                    reason="Its transcript was deleted (the recording or its story was removed): nothing to make.",
                )
                logger.warning("job %s dropped: transcript %s no longer exists", job.pk, transcript_id)
                continue
            if transcript.status == Transcript.Status.RUNNING and transcript.updated_at > cutoff:
                continue  # its worker is alive and still beating
            if transcript.status == Transcript.Status.RUNNING:
                if transcript.attempts >= max_attempts():
                    transcript.status = Transcript.Status.FAILED
                    transcript.error = (
                        f"The worker stopped {transcript.attempts} times while transcribing this recording, so it "
                        "has stopped trying. The recording may be too long for this server's memory."
                    )
                    transcript.finished_at = timezone.now()
                    transcript.save(update_fields=["status", "error", "finished_at", "updated_at"])
                    _job_drop(job, error=WorkerLost, reason=transcript.error)
                    logger.warning("job %s failed: its worker was lost %s times", job.pk, transcript.attempts)
                    continue
                transcript.status = Transcript.Status.QUEUED
                transcript.save(update_fields=["status", "updated_at"])
            job.status = TaskResultStatus.READY
            job.started_at = None
            job.run_after = timezone.now()
            job.save(update_fields=["status", "started_at", "run_after"])
            taken_back += 1
            logger.warning("job %s went back to the queue: its worker went quiet for over %.0f s", job.pk, lease)
    return taken_back
