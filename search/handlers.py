"""Signals only enqueue: each event that can change what the public sees queues a refresh once the data is saved."""

from django.db import transaction
from wagtail.models import Page

from stories.models import StoryPage

from .models import StoryDocument, StoryFacetValue
from .tasks import refresh_story_index


def enqueue_refresh(story_id: int) -> None:
    transaction.on_commit(lambda: refresh_story_index.enqueue(story_id))


def story_page_changed(sender, instance, **kwargs):
    """Published (an edit goes live this way), unpublished or deleted."""
    enqueue_refresh(instance.pk)


def story_visibility_changed(sender, story_id, **kwargs):
    enqueue_refresh(story_id)


def view_restriction_changed(sender, instance, **kwargs):
    """A password, login or group restriction put on a page or taken off: every story at or below it changes."""
    # By id, not instance.page: when a page is deleted its restrictions go first and the page may be gone by now.
    path = Page.objects.filter(pk=instance.page_id).values_list("path", flat=True).first()
    if path is None:
        return
    for story_id in StoryPage.objects.filter(path__startswith=path).values_list("pk", flat=True):
        enqueue_refresh(story_id)


def transcript_ready(sender, transcript_id, media_id, **kwargs):
    """A transcript finished or was corrected: every story told with that recording gets new moments."""
    for story_id in StoryPage.objects.filter(recording_id=media_id).values_list("pk", flat=True):
        enqueue_refresh(story_id)


def remember_indexed_label(sender, instance, **kwargs):
    """Before a theme or community is saved: the slug and name its stories were indexed under."""
    instance._indexed_label = sender.objects.filter(pk=instance.pk).values_list("slug", "name").first()


def label_changed(sender, instance, created, **kwargs):
    """A theme or community renamed (or given a new slug): its indexed stories carry the old words until refreshed."""
    before = getattr(instance, "_indexed_label", None)
    if created or before is None or before == (instance.slug, instance.name):
        return
    old_slug = before[0]
    if sender._meta.model_name == "theme":
        story_ids = StoryFacetValue.objects.filter(facet="theme", value=old_slug).values_list("document_id", flat=True)
    else:
        story_ids = StoryDocument.objects.filter(community=old_slug).values_list("story_id", flat=True)
    for story_id in story_ids:
        enqueue_refresh(story_id)
