"""Reads for indexing: a public story as the search backends store it."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.html import strip_tags

from stories.generations import NOT_SHARED
from stories.models import StoryPage, StoryParticipant
from stories.validators import language_label
from transcription.models import Segment, Transcript

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
        .prefetch_related(
            "themes", Prefetch("participants", queryset=StoryParticipant.objects.select_related("person"))
        )
        .order_by("pk")
    )


def indexed_story(story_id: int) -> IndexedStory | None:
    """The story as search stores it, or None when the public may not see it (then it must leave the index)."""
    story = public_stories_to_index().filter(pk=story_id).first()
    return story_for_index(story) if story else None


def story_for_index(story: StoryPage) -> IndexedStory:
    generations = {}
    for participant in story.participants.all():
        generation = participant.person.generation
        generations.setdefault(generation.slug, generation.label)
    body_parts = [strip_tags(str(part)) for part in story.body.stream_block.get_searchable_content(story.body)]
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
        generations=list(generations.items()),
        recorded_on=story.recorded_on,
        published_at=story.first_published_at,
        segments=current_segments(story),
    )


def current_segments(story: StoryPage) -> list[IndexedSegment]:
    if not story.recording_id:
        return []
    transcript = Transcript.objects.filter(
        media_id=story.recording_id, is_current=True, status=Transcript.Status.DONE
    ).first()
    if transcript is None:
        return []
    return [
        IndexedSegment(position=s.index, start=s.start, end=s.end, text=s.text)
        for s in Segment.objects.filter(transcript=transcript).order_by("index")
    ]
