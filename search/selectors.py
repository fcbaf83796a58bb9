"""Reads for indexing: a public story as the search backends store it."""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db.models import Prefetch
from django.utils.html import strip_tags

from stories.generations import NOT_SHARED
from stories.models import StoryPage
from stories.models.pages import participants_as_listed
from stories.validators import language_label
from transcription.selectors import public_body, public_segments, readable_transcripts, written_redactions_of

from .analysis import analyzer_for, primary_language


@dataclass(frozen=True)
class IndexedSegment:
    position: int
    start: float
    end: float
    text: str


@dataclass
class IndexedStory:
    """Everything a backend stores about one public story; nothing private (no full names, no birth years)."""

    id: int
    title: str
    summary: str
    body: str
    analyzer: str
    language: str
    language_label: str
    kind: str
    community: str
    community_name: str
    themes: list[tuple[str, str]]
    generations: list[tuple[str, str]]
    recorded_on: datetime.date | None
    published_at: datetime.datetime | None
    segments: list[IndexedSegment] = field(default_factory=list)
    duration_seconds: float | None = None  # of the recording; None for a written story or an unmeasured file

    @property
    def generation_count(self) -> int:
        return len([slug for slug, _ in self.generations if slug != NOT_SHARED.slug])

    @property
    def transcript(self) -> str:
        return " ".join(segment.text for segment in self.segments)


def public_stories_to_index():
    return (
        StoryPage.objects.visible_to_public()
        .select_related("community", "recording")
        .prefetch_related("themes", Prefetch("participants", queryset=participants_as_listed()))
        .order_by("pk")
    )


def indexed_story(story_id: int) -> IndexedStory | None:
    """The story as search stores it, or None when the public may not see it (then it must leave the index)."""
    story = public_stories_to_index().filter(pk=story_id).first()
    return story_for_index(story) if story else None


def indexed_stories(chunk_size: int = 500) -> Iterator[IndexedStory]:
    """Every story the public may see, as search stores it, read a chunk at a time: a fixed number of queries per
    chunk, however many stories or segments there are."""
    stories = public_stories_to_index().iterator(chunk_size=chunk_size)
    while chunk := list(islice(stories, chunk_size)):
        segments = current_segments_of([story.recording_id for story in chunk if story.recording_id])
        redactions = written_redactions_of([story.pk for story in chunk])
        for story in chunk:
            yield story_for_index(
                story, segments=segments.get(story.recording_id, []), redactions=redactions.get(story.pk, [])
            )


def story_for_index(
    story: StoryPage, *, segments: list[IndexedSegment] | None = None, redactions: list | None = None
) -> IndexedStory:
    """A story as search stores it: its words as the public reads them, redacted passages left out."""
    if segments is None:
        segments = current_segments_of([story.recording_id]).get(story.recording_id, [])
    body = public_body(story, redactions=redactions)
    body_parts = [strip_tags(str(part)) for part in body.stream_block.get_searchable_content(body)]
    community = story.community
    return IndexedStory(
        id=story.pk,
        title=story.title,
        summary=story.summary,
        body=" ".join(part for part in body_parts if part),
        analyzer=analyzer_for(story.language),
        language=primary_language(story.language),
        language_label=language_label(primary_language(story.language)),
        kind=story.kind,
        community=community.slug if community else "",
        community_name=community.name if community else "",
        themes=[(theme.slug, theme.name) for theme in story.themes.all()],
        generations=[(generation.slug, generation.label) for generation in story.generations],
        recorded_on=story.recorded_on,
        published_at=story.first_published_at,
        segments=segments,
        duration_seconds=story.recording.duration_seconds if story.recording_id else None,
    )


def current_segments_of(media_ids: list) -> dict[object, list[IndexedSegment]]:
    """The segments of the transcript people read for each recording, in order, in one query."""
    found = defaultdict(list)
    media_ids = [media_id for media_id in media_ids if media_id]
    if not media_ids:
        return found
    for segment in public_segments(readable_transcripts().filter(media_id__in=media_ids)):
        found[segment.media_id].append(
            IndexedSegment(position=segment.index, start=segment.start, end=segment.end, text=segment.text)
        )
    return found
