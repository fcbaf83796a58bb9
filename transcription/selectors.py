"""Reads other code reuses: withdrawal, the transcript people read for a recording, the jobs still unfinished."""

from collections import defaultdict
from dataclasses import dataclass

from stories.models import StoryPage

from .models import Redaction, Segment, Transcript


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


REDACTED = "[redacted]"


@dataclass(frozen=True)
class PublicSegment:
    """A segment as the public and storytellers read it: its words, or "[redacted]" where a redaction covers it."""

    media_id: int
    transcript_id: int
    index: int
    start: float
    end: float
    text: str
    speaker_id: int | None
    redacted: bool = False


def redactions_of(media_ids) -> dict[int, list[Redaction]]:
    """Each recording's redactions, in one query."""
    found = defaultdict(list)
    for redaction in Redaction.objects.filter(media_id__in=[media_id for media_id in media_ids if media_id]):
        found[redaction.media_id].append(redaction)
    return found


def public_segments(transcripts) -> list[PublicSegment]:
    """The segments of these transcripts in order (by transcript, then position), with every segment a redaction of
    its recording overlaps read as "[redacted]". Every public reading of a transcript's words goes through here: the
    story page, caption files, the API, the search index (and so suggestions and moments) and storytellers' copies.
    Two queries."""
    rows = list(
        Segment.objects.filter(transcript__in=transcripts)
        .order_by("transcript_id", "index")
        .values_list("transcript__media_id", "transcript_id", "index", "start", "end", "text", "speaker_id")
    )
    redactions = redactions_of({row[0] for row in rows})
    shown = []
    for media_id, transcript_id, index, start, end, text, speaker_id in rows:
        redacted = any(redaction.covers(start, end) for redaction in redactions.get(media_id, ()))
        shown.append(
            PublicSegment(
                media_id=media_id,
                transcript_id=transcript_id,
                index=index,
                start=start,
                end=end,
                text=REDACTED if redacted else text,
                speaker_id=speaker_id,
                redacted=redacted,
            )
        )
    return shown


def redacted_segments(transcript: Transcript) -> list[Segment]:
    """The segments of a transcript that a redaction of its recording covers: what facilitators see marked."""
    redactions = list(Redaction.objects.filter(media_id=transcript.media_id))
    if not redactions:
        return []
    return [
        segment
        for segment in transcript.segments.order_by("index").only("pk", "start", "end")
        if any(redaction.covers(segment.start, segment.end) for redaction in redactions)
    ]
