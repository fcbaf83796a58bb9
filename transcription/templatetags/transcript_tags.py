"""What the story and collection pages need from transcripts, in a fixed number of queries however long they are."""

from dataclasses import dataclass

from django import template

from stories.models import CollectionEntry, CollectionPage, StoryPage
from stories.timecodes import TimedSpan

from ..models import Transcript
from ..selectors import public_body, public_segments, readable_transcripts, speaker_names

register = template.Library()


@dataclass(frozen=True)
class TranscriptLine(TimedSpan):
    """One segment as the page shows it: where it starts (to the second for links) and what is said."""

    number: int
    start: float
    end: float
    text: str
    speaker: str = ""


@dataclass(frozen=True)
class StoryTranscript:
    transcript: Transcript
    lines: list[TranscriptLine]

    @property
    def is_automatic(self) -> bool:
        """A machine made it and no facilitator has marked it reviewed yet."""
        return self.transcript.machine_generated and not self.transcript.reviewed


def _current(media_ids):
    return readable_transcripts().filter(media_id__in=media_ids)


@register.simple_tag
def story_transcript(story: StoryPage) -> StoryTranscript | None:
    """The transcript people read for a story's recording, with its lines and their speakers' display names: three
    queries, or none without a recording. A story page asks twice (its metadata and its body): the story read for one
    request keeps the answer, so the second asking reads nothing."""
    if "_story_transcript" not in story.__dict__:
        story.__dict__["_story_transcript"] = _read_story_transcript(story)
    return story.__dict__["_story_transcript"]


def _read_story_transcript(story: StoryPage) -> StoryTranscript | None:
    if not story.recording_id:
        return None
    transcript = _current([story.recording_id]).only("id", "machine_generated", "reviewed", "language").first()
    if transcript is None:
        return None
    speakers = speaker_names(story)
    lines = [
        TranscriptLine(
            number=number,
            start=segment.start,
            end=segment.end,
            text=segment.text,
            speaker=speakers.get(segment.speaker_id, ""),
        )
        for number, segment in enumerate(public_segments([transcript]), start=1)
    ]
    return StoryTranscript(transcript=transcript, lines=lines)


@dataclass(frozen=True)
class PlaylistEntry:
    entry: CollectionEntry
    has_captions: bool

    @property
    def story(self) -> StoryPage:
        return self.entry.story


@register.simple_tag
def collection_playlist(collection: CollectionPage) -> list[PlaylistEntry]:
    """A collection's public entries in order, with their recordings, content notes and whether captions exist: four
    queries."""
    entries = collection.entries_shown(
        collection.entries.select_related("story", "story__community", "story__recording")
        .prefetch_related("story__content_notes")
        .order_by("sort_order")
    )
    media_ids = {entry.story.recording_id for entry in entries if entry.story.recording_id}
    captioned = set(_current(media_ids).values_list("media_id", flat=True)) if media_ids else set()
    return [PlaylistEntry(entry=entry, has_captions=entry.story.recording_id in captioned) for entry in entries]


@register.simple_tag(takes_context=True)
def public_block_value(context, value):
    """A paragraph's or quote's value as the public reads it on its story's page: with redacted passages replaced
    (see selectors.public_body). One query a page; the value as it is anywhere else."""
    page = context.get("page")
    if not isinstance(page, StoryPage) or not page.pk:
        return value
    shown = getattr(page, "_public_body", None)
    if shown is None:
        shown = page._public_body = {block.id: block.value for block in public_body(page)}
    # The page's own body, read again, gives the same bound blocks as the loop rendering it: find this one's id.
    block_id = next((block.id for block in page.body if block.value is value), None)
    return shown.get(block_id, value)
