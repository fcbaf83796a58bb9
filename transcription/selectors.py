"""Reads other code reuses: withdrawal, the transcript people read for a recording, the jobs still unfinished."""

from stories.models import StoryPage

from .models import Transcript


def story_withdrawn(*, media_id) -> bool:
    """A story that uses this recording was withdrawn: none of its text may be kept."""
    return StoryPage.objects.filter(recording_id=media_id, withdrawn_at__isnull=False).exists()


def current_transcript(*, media_id) -> Transcript | None:
    """The transcript people read for a recording, or None.

    Only a finished transcript becomes current, and it stays readable while the same model runs again.
    """
    if media_id is None:
        return None
    return Transcript.objects.filter(media_id=media_id, is_current=True).first()


def latest_transcript(*, media_id) -> Transcript | None:
    """The transcript the worker touched last for a recording: what the admin shows as its processing state."""
    if media_id is None:
        return None
    return Transcript.objects.filter(media_id=media_id).order_by("-is_current", "-updated_at").first()


def unfinished_transcripts():
    """Failed, waiting and running transcripts, failures first: the admin's report."""
    return (
        Transcript.objects.exclude(status=Transcript.Status.DONE)
        .select_related("media")
        .order_by("status", "-updated_at")
    )
