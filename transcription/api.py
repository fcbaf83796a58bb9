"""GET /api/stories/{id}: one public story with its participants, its recording's public files (the access copy, a
video's poster, captions), its written text, its dialogue, and the transcript people read."""

from django.urls import reverse
from ninja import Field, Path, Router, Schema
from ninja.errors import HttpError

from stories.api import (
    ERROR_RESPONSES,
    MAX_STORY_ID,
    DialogueRef,
    ErrorOut,
    ParticipantOut,
    StoryOut,
    prepared_for_the_api,
)
from stories.blocks import written_blocks, written_text
from stories.models import StoryPage

from .selectors import current_transcript, latest_transcript, public_body, public_segments, speaker_names

router = Router(tags=["stories"])


class SegmentOut(Schema):
    start: float
    end: float
    text: str
    speaker: str | None = Field(
        description="The display name of who says it, one of the story's participants; null when not named."
    )


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
        "segments": _segments_out(current, speaker_names(story)) if current else [],
    }


def _segments_out(transcript, speakers: dict[int, str]) -> list[dict]:
    return [
        {"start": segment.start, "end": segment.end, "text": segment.text, "speaker": speakers.get(segment.speaker_id)}
        for segment in public_segments([transcript])
    ]


class CaptionsOut(Schema):
    webvtt: str = Field(description="The captions as WebVTT, at the story's address followed by transcript.vtt.")
    srt: str = Field(description="The same captions as SubRip (SRT).")
    text: str = Field(description="The transcript as plain text.")
    language: str
    automatic: bool = Field(description="Made by the computer and not yet checked by a facilitator.")


class RecordingOut(Schema):
    kind: str = Field(description="audio or video.")
    duration_seconds: float | None
    access_url: str | None = Field(
        description="The copy made for listening (never the original as uploaded); null while it is being prepared."
    )
    content_type: str | None = Field(description="The access copy's media type; null while it is being prepared.")
    poster_url: str | None = Field(description="A still from a video, as JPEG; null for sound, or until it is made.")
    width: int | None = Field(description="A video's width in pixels; null for sound.")
    height: int | None = Field(description="A video's height in pixels; null for sound.")
    captions: CaptionsOut | None = Field(description="Null until the recording has a transcript people can read.")


class WrittenBlockOut(Schema):
    type: str = Field(description="paragraph, quote or image.")
    text: str | None = Field(None, description="A paragraph's or a quote's words, as plain text.")
    attribution: str | None = Field(None, description="Who a quote is from; may be empty.")
    alt_text: str | None = Field(None, description="What a picture shows, for people who cannot see it.")
    caption: str | None = Field(None, description="A picture's caption; may be empty.")
    image: str | None = Field(None, description="A picture's address, as the story page shows it.")


class WrittenOut(Schema):
    text: str = Field(description="The whole written text as plain text, blank lines between its parts.")
    blocks: list[WrittenBlockOut] = Field(description="The same text part by part, in order.")


def recording_out(request, story) -> dict | None:
    media = story.recording
    if media is None:
        return None

    def address(variant: str) -> str:
        return request.build_absolute_uri(reverse("stories:recording", args=[media.pk, variant]))

    transcript = current_transcript(media_id=media.pk)
    captions = None
    if transcript is not None:
        story_address = request.build_absolute_uri(story.url)
        captions = {
            "webvtt": f"{story_address}transcript.vtt",
            "srt": f"{story_address}transcript.srt",
            "text": f"{story_address}transcript.txt",
            "language": transcript.language or story.language,
            "automatic": transcript.machine_generated and not transcript.reviewed,
        }
    return {
        "kind": media.kind,
        "duration_seconds": media.duration_seconds,
        "access_url": address("access") if media.access_copy else None,
        "content_type": (media.access_content_type or media.content_type or None) if media.access_copy else None,
        "poster_url": address("poster") if media.has_video and media.poster else None,
        "width": media.width if media.has_video else None,
        "height": media.height if media.has_video else None,
        "captions": captions,
    }


class StoryDetailOut(StoryOut):
    participants: list[ParticipantOut]
    recording: RecordingOut | None = Field(description="Null for a written story.")
    written: WrittenOut | None = Field(
        description="The written story, or notes that go with a recording; null if none."
    )
    dialogue: DialogueRef | None = Field(description="The gathering where the story was told; null if not recorded.")
    transcript: TranscriptOut | None

    @staticmethod
    def resolve_participants(story):
        return list(story.participants.all())

    @staticmethod
    def resolve_recording(story, context):
        return recording_out(context["request"], story)

    @staticmethod
    def resolve_written(story):
        blocks = written_blocks(public_body(story))
        return {"text": written_text(blocks), "blocks": blocks} if blocks else None

    @staticmethod
    def resolve_transcript(story):
        return transcript_out(story)


@router.get(
    "/{story_id}",
    response={200: StoryDetailOut, 404: ErrorOut, **ERROR_RESPONSES},
    summary="One public story: participants, recording, captions, written text, dialogue and transcript",
)
def get_story(request, story_id: int = Path(..., ge=1, le=MAX_STORY_ID, description="A story's id, as listed.")):
    story = (
        prepared_for_the_api(StoryPage.objects.visible_to_public())
        .select_related("dialogue")
        .filter(pk=story_id)
        .first()
    )
    if story is None:
        # The same answer for an id that is no story and a story the public may not see.
        raise HttpError(404, "No public story has this id.")
    return story
