"""Stories with recordings and transcripts whose segment times are known exactly."""

from stories.factories import public_story
from stories.models import StoryMedia
from transcription.models import Segment, Transcript


def recording(*, video=False) -> StoryMedia:
    """A recording row; these tests read pages, so no file needs to exist."""
    return StoryMedia.objects.create(
        file="recordings/garden.ogg",
        size=10,
        sha256="0" * 64,
        container="ogg",
        audio_codec="opus",
        content_type="audio/ogg",
        video_codec="h264" if video else "",
        duration_seconds=4000.0,  # longer than any moment these tests link to
    )


def transcribe(media, lines, *, reviewed=False, machine_generated=True, status=Transcript.Status.DONE, current=True):
    """A transcript of the recording with one segment per (start, end, text)."""
    transcript = Transcript.objects.create(
        media=media,
        model_name="tiny.en",
        status=status,
        is_current=current,
        language="en",
        reviewed=reviewed,
        machine_generated=machine_generated,
    )
    Segment.objects.bulk_create(
        Segment(transcript=transcript, index=i, start=start, end=end, text=text)
        for i, (start, end, text) in enumerate(lines)
    )
    return transcript


def spoken_lines(count: int, *, seconds_each: float = 4.0):
    """count segments of ordinary speech, one after another."""
    return [
        (i * seconds_each, (i + 1) * seconds_each, f"Line {i} of the story, about the garden behind the house.")
        for i in range(count)
    ]


def story_with_transcript(lines, **fields):
    story = public_story(recording=recording(), **fields)
    transcript = transcribe(story.recording, lines)
    return story, transcript
