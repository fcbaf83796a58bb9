"""Reads for the podcast feeds: the episodes of a community, a theme or a collection, newest first (a collection's in
its curator's order), at most FEED_SIZE of them.

Episodes are chosen from the visibility rule's stored answer (PublicStory) by index, then the rule itself is asked
about the chosen stories (`visible_to_public()`): a story it hides now is left out, whatever the stored answer says.
Only stories whose recording has its access copy are episodes: that is the file a podcast app downloads.
"""

import dataclasses
import datetime

from django.db.models import Max, Prefetch

from stories.models import CollectionEntry, PublicStory, PublicStoryTheme, StoryPage, private_storage
from transcription.selectors import readable_transcripts

FEED_SIZE = 500


@dataclasses.dataclass
class Episode:
    story: StoryPage
    access_bytes: int
    transcript_language: str | None  # None: no transcript to link
    transcript_changed_at: datetime.datetime | None


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
    stories = {
        story.pk: story
        for story in StoryPage.objects.visible_to_public()
        .filter(pk__in=story_ids)
        .select_related("recording", "community")
        .prefetch_related(Prefetch("content_notes"))
    }
    media_ids = [story.recording_id for story in stories.values() if story.recording_id]
    transcripts = {
        media_id: (language, updated_at)
        for media_id, language, updated_at in readable_transcripts()
        .filter(media_id__in=media_ids, no_speech=False)
        .values_list("media_id", "language", "updated_at")
    }
    storage = private_storage()
    found = []
    for story_id in story_ids:
        story = stories.get(story_id)
        if story is None or story.recording is None or not story.recording.access_copy:
            continue
        try:
            size = storage.size(story.recording.access_copy.name)
        except OSError:
            continue  # a copy that went missing cannot be listened to; the fixity check reports originals
        language, changed_at = transcripts.get(story.recording_id, (None, None))
        if changed_at is not None:
            language = language or story.language
        found.append(Episode(story, size, language, changed_at))
    return found


def last_change() -> datetime.datetime | None:
    """When any story last entered, changed in or left the stored answer: a feed cannot have changed since, except
    through its episodes' transcripts, which the feed dates itself."""
    return PublicStory.objects.aggregate(latest=Max("changed_at"))["latest"]
