"""GET /api/stories/{id}: one public story with its participants and the transcript people read."""

from django.shortcuts import get_object_or_404
from ninja import Field, Path, Router, Schema

from stories.api import ERROR_RESPONSES, MAX_STORY_ID, ErrorOut, ParticipantOut, StoryOut, prepared_for_the_api
from stories.models import StoryPage

from .selectors import current_transcript, latest_transcript

router = Router(tags=["stories"])


class SegmentOut(Schema):
    start: float
    end: float
    text: str


class TranscriptOut(Schema):
    status: str = Field(description="Where the worker has got to: queued, running, done or failed.")
    progress: int
    language: str
    no_speech: bool = Field(description="The recording holds no speech.")
    reviewed: bool = Field(description="A facilitator has checked and corrected the text.")
    segments: list[SegmentOut]


def transcript_out(story) -> dict | None:
    """The latest job's state, with the words of the transcript people read (kept while a new one is made)."""
    latest = latest_transcript(media_id=story.recording_id)
    if latest is None:
        return None
    current = current_transcript(media_id=story.recording_id)
    return {
        "status": latest.status,
        "progress": latest.progress,
        "language": current.language if current else latest.language,
        "no_speech": bool(current and current.no_speech),
        "reviewed": bool(current and current.reviewed),
        "segments": list(current.segments.order_by("index")) if current else [],
    }


class StoryDetailOut(StoryOut):
    participants: list[ParticipantOut]
    transcript: TranscriptOut | None

    @staticmethod
    def resolve_participants(story):
        return list(story.participants.all())

    @staticmethod
    def resolve_transcript(story):
        return transcript_out(story)


@router.get(
    "/{story_id}",
    response={200: StoryDetailOut, 404: ErrorOut, **ERROR_RESPONSES},
    summary="One public story, with its participants and transcript",
)
def get_story(request, story_id: int = Path(..., ge=1, le=MAX_STORY_ID, description="A story's id, as listed.")):
    return get_object_or_404(prepared_for_the_api(StoryPage.objects.visible_to_public()), pk=story_id)
