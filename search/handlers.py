"""Reactions to the stories app's announcements: a hidden story leaves the index at once; the rest is queued."""

import logging

from django.db import transaction

from stories.models import StoryPage

from .backends import SearchUnavailable
from .models import StoryDocument, StoryFacetValue
from .services import story_index_forget
from .tasks import refresh_story_index

logger = logging.getLogger(__name__)


def enqueue_refresh(story_id: int) -> None:
    transaction.on_commit(lambda: refresh_story_index.enqueue(story_id))


def story_visibility_changed(sender, story_id, **kwargs):
    """Sent on commit for every change to an input of the visibility rule: the story may now be shown."""
    refresh_story_index.enqueue(story_id)


def stories_hidden(sender, story_ids, **kwargs):
    """Sent inside the transaction that hid the stories: the index forgets them before the response."""
    try:
        story_index_forget(story_ids=story_ids)
    except SearchUnavailable as error:
        # An external index that cannot be reached must not undo a withdrawal. The refresh queued on commit removes
        # the stories once it answers, and until then every search runs the rule again on the hits it shows.
        logger.error(
            "the search index could not forget stories %s now (%s); their refresh is queued", sorted(story_ids), error
        )


def transcript_ready(sender, transcript_id, media_id, **kwargs):
    """A transcript finished or was corrected: every story told with that recording gets new moments."""
    for story_id in StoryPage.objects.filter(recording_id=media_id).values_list("pk", flat=True):
        enqueue_refresh(story_id)


def written_text_redacted(sender, story_id, **kwargs):
    """Sent on commit: a passage of the story's written text was redacted or put back."""
    refresh_story_index.enqueue(story_id)


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
