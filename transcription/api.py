"""GET /api/stories/{id}: one public story with its participants and the transcript people read."""

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from stories.api import ParticipantOut, StoryOut, public_stories

from .models import Transcript
from .selectors import latest_transcript

router = Router(tags=["stories"])


class SegmentOut(Schema):
    start: float
    end: float
    text: str


class TranscriptOut(Schema):
    status: str
    language: str
    no_speech: bool
    reviewed: bool
    segments: list[SegmentOut]

    @staticmethod
    def resolve_segments(transcript):
        if transcript.status != Transcript.Status.DONE:
            return []
        return list(transcript.segments.order_by("index"))


class StoryDetailOut(StoryOut):
    participants: list[ParticipantOut]
    transcript: TranscriptOut | None

    @staticmethod
    def resolve_participants(story):
        return list(story.participants.all())

    @staticmethod
    def resolve_transcript(story):
        # The public sees the current transcript once it is done, otherwise where the worker has got to.
        return latest_transcript(media_id=story.recording_id)


@router.get("/{story_id}", response=StoryDetailOut, summary="One public story, with its participants and transcript")
def get_story(request, story_id: int):
    return get_object_or_404(public_stories(), pk=story_id)
