"""Signals only enqueue: each event that can change what the public sees queues a refresh once the data is saved."""

from django.db import transaction

from stories.models import StoryPage

from .tasks import refresh_story_index


def enqueue_refresh(story_id: int) -> None:
    transaction.on_commit(lambda: refresh_story_index.enqueue(story_id))


def story_page_changed(sender, instance, **kwargs):
    """Published (an edit goes live this way), unpublished or deleted."""
    enqueue_refresh(instance.pk)


def story_visibility_changed(sender, story_id, **kwargs):
    enqueue_refresh(story_id)


def transcript_ready(sender, transcript_id, media_id, **kwargs):
    """A transcript finished or was corrected: every story told with that recording gets new moments."""
    for story_id in StoryPage.objects.filter(recording_id=media_id).values_list("pk", flat=True):
        enqueue_refresh(story_id)
