"""Worker jobs. Thin: they take an id and hand it to a service."""

from django_tasks import task

from . import services


@task()
def transcribe_recording(transcript_id: int) -> str:
    """Make a recording's access copy and transcript."""
    return services.transcript_run(transcript_id=transcript_id)


@task()
def redact_recording(media_id: str) -> str:
    """Make a recording's access copy and poster again after a redaction or an undo (and its original, if asked)."""
    return services.recording_redact(media_id=media_id)
