"""Reads other code reuses: withdrawal, the transcript people read for a recording, the jobs still unfinished."""

from stories.models import StoryPage

from .models import Transcript


def story_withdrawn(*, media_id) -> bool:
    """A story that uses this recording was withdrawn: none of its text may be kept."""
    return StoryPage.objects.filter(recording_id=media_id, withdrawn_at__isnull=False).exists()


def readable_transcripts():
    """The transcript the public and storytellers read for each recording: on the story page, in its caption files,
    on the storyteller's own page, in the API and in the search index. The newest finished one (or the one a
    facilitator chose); while another is made, the previous one stays readable. See TranscriptQuerySet.readable."""
    return Transcript.objects.readable()


def current_transcript(*, media_id) -> Transcript | None:
    """The transcript people read for a recording, or None."""
    if media_id is None:
        return None
    return readable_transcripts().filter(media_id=media_id).first()


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


def speaker_names(story: StoryPage) -> dict[int, str]:
    """The names segments may show for a story: its participants' display names (never full names), by person.

    A speaker who is no longer a participant is shown without a name."""
    return dict(story.participants.values_list("person_id", "person__display_name"))
