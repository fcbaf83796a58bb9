"""Reads for the podcast feeds: the episodes of a community, a theme or a collection, newest first (a collection's in
its curator's order), at most FEED_SIZE of them.

Episodes are chosen from the visibility rule's stored answer (PublicStory) by index, then the rule itself is asked
about the chosen stories (`visible_to_public()`): a story it hides now is left out, whatever the stored answer says.
Only stories whose recording has its access copy are episodes: that is the file a podcast app downloads.
"""

import dataclasses
import datetime
import uuid

from django.db.models import Exists, Max, OuterRef

from stories.addresses import StoryAddresses
from stories.models import Chapter, CollectionEntry, PublicStory, PublicStoryTheme, StoryPage, private_storage
from stories.storage import stored_file
from transcription.models import RedactionEvent
from transcription.selectors import readable_transcripts

FEED_SIZE = 500


@dataclasses.dataclass
class Episode:
    """What an item shows of one story: read as plain values, since a feed of 500 built as pages would spend most of
    its time making page objects."""

    story_id: int
    title: str
    summary: str
    path: str  # the story's address on the site
    language: str
    published_at: datetime.datetime | None
    guid: uuid.UUID  # the page's translation key: stable through renames and moves
    media_id: uuid.UUID
    media_type: str
    duration_seconds: float | None
    access_bytes: int
    content_notes: list[str]
    transcript_language: str | None  # None: no transcript to link
    transcript_changed_at: datetime.datetime | None
    has_chapters: bool = False  # the recording has chapters, served at the story's address + chapters.json


def _with_access_copy(rows):
    return rows.filter(story__recording__isnull=False).exclude(story__recording__access_copy="")


def community_story_ids(community) -> list[int]:
    rows = _with_access_copy(PublicStory.objects.filter(is_public=True).filter(community_id=community.pk))
    return list(rows.order_by("-published_at", "-story_id").values_list("story_id", flat=True)[:FEED_SIZE])


def theme_story_ids(theme) -> list[int]:
    # The stored answer keeps a row per theme of each public story, in the listing order, indexed by theme.
    rows = PublicStoryTheme.objects.filter(theme=theme, story__is_public=True)
    rows = rows.filter(story__story__recording__isnull=False).exclude(story__story__recording__access_copy="")
    return list(rows.order_by("-published_at", "-story_id").values_list("story_id", flat=True)[:FEED_SIZE])


def collection_story_ids(collection) -> list[int]:
    listed = _with_access_copy(PublicStory.objects.filter(is_public=True)).values("story_id")
    entries = CollectionEntry.objects.filter(page=collection, story_id__in=listed).order_by("sort_order", "pk")
    ids = []
    for story_id in entries.values_list("story_id", flat=True):
        if story_id not in ids:  # a story entered twice is one episode, where it first plays
            ids.append(story_id)
        if len(ids) == FEED_SIZE:
            break
    return ids


def episodes(story_ids: list[int]) -> list[Episode]:
    """These stories as episodes, in this order: only those the rule allows now, whose access copy is on disk."""
    rows = {
        row["pk"]: row
        for row in StoryPage.objects.visible_to_public()
        .filter(pk__in=story_ids, recording__isnull=False)
        .exclude(recording__access_copy="")
        # Whether each has chapters is asked in this same query: a feed's cost does not grow with its episodes.
        .annotate(has_chapters=Exists(Chapter.objects.filter(story=OuterRef("pk"))))
        .values(
            "pk",
            "title",
            "summary",
            "url_path",
            "language",
            "first_published_at",
            "translation_key",
            "recording_id",
            "recording__access_copy",
            "recording__access_content_type",
            "recording__duration_seconds",
            "has_chapters",
        )
    }
    notes: dict[int, list[str]] = {}
    for story_id, name in (
        StoryPage.content_notes.through.objects.filter(storypage_id__in=rows)
        .order_by("contentnote__name")
        .values_list("storypage_id", "contentnote__name")
    ):
        notes.setdefault(story_id, []).append(name)
    media_ids = [row["recording_id"] for row in rows.values()]
    # A redaction or its undo changes what the transcript links read without touching the transcript's row: the
    # audit's last entry for the recording dates it.
    redacted = dict(
        RedactionEvent.objects.filter(media_id__in=media_ids)
        .values("media_id")
        .annotate(latest=Max("at"))
        .values_list("media_id", "latest")
    )
    transcripts = {
        media_id: (language, max(updated_at, redacted.get(media_id, updated_at)))
        for media_id, language, updated_at in readable_transcripts()
        .filter(media_id__in=media_ids, no_speech=False)
        .values_list("media_id", "language", "updated_at")
    }
    storage, addresses = private_storage(), StoryAddresses()
    found = []
    for story_id in story_ids:
        row = rows.get(story_id)
        path = addresses.path(row["url_path"]) if row else None
        if path is None:
            continue
        try:
            size = stored_file(storage, row["recording__access_copy"]).size
        except OSError:
            continue  # a copy that went missing cannot be listened to; the fixity check reports originals
        language, changed_at = transcripts.get(row["recording_id"], (None, None))
        found.append(
            Episode(
                story_id=story_id,
                title=row["title"],
                summary=row["summary"],
                path=path,
                language=row["language"],
                published_at=row["first_published_at"],
                guid=row["translation_key"],
                media_id=row["recording_id"],
                media_type=row["recording__access_content_type"],
                duration_seconds=row["recording__duration_seconds"],
                access_bytes=size,
                content_notes=notes.get(story_id, []),
                transcript_language=(language or row["language"]) if changed_at else None,
                transcript_changed_at=changed_at,
                has_chapters=row["has_chapters"],
            )
        )
    return found


def last_change() -> datetime.datetime | None:
    """When any story last entered, changed in or left the stored answer: a feed cannot have changed since, except
    through its episodes' transcripts (and their redactions), which the feed dates itself."""
    return PublicStory.objects.aggregate(latest=Max("changed_at"))["latest"]
