"""Taking a story back: what is removed, and the audit that keeps no content."""

import logging

from django.db import transaction
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import PageLogEntry, Revision, WorkflowState

from ..media import recording_delete_files
from ..models import (
    Consent,
    Person,
    StoryMedia,
    StoryPage,
    Withdrawal,
)
from ..signals import story_visibility_changed, story_withdrawn

logger = logging.getLogger(__name__)


WITHDRAWN_TITLE = "Withdrawn story"


@transaction.atomic
def story_withdraw(
    *,
    story: StoryPage,
    requested_by: str,
    user=None,
    participant: Person | None = None,
) -> Withdrawal:
    """Take a story back: unpublish it, withdraw every consent, delete its recording, copies, transcripts and text.

    Idempotent: a second call removes anything left over and returns the first audit entry.
    """
    story = StoryPage.objects.select_for_update().get(pk=story.pk)
    previous = story.withdrawals.order_by("withdrawn_at").first()
    now = timezone.now()
    removed: list[dict] = []

    for state in WorkflowState.objects.for_instance(story).filter(
        status__in=[WorkflowState.STATUS_IN_PROGRESS, WorkflowState.STATUS_NEEDS_CHANGES]
    ):
        state.cancel(user=user)
    if story.live:
        story.unpublish(user=user, log_action=True)
        story.refresh_from_db()
        removed.append({"kind": "publication"})

    consents = Consent.objects.filter(story=story, withdrawn_at__isnull=True).update(withdrawn_at=now)
    if consents:
        removed.append({"kind": "consent", "count": consents})

    media = story.recording
    if media is not None:
        removed.append({"kind": "recording", "recording": str(media.id), "bytes": media.size})
        if media.access_copy:
            removed.append({"kind": "access copy"})
        if media.poster:
            removed.append({"kind": "poster"})
        transcripts = getattr(media, "transcripts", None)
        if transcripts is not None and transcripts.exists():
            removed.append({"kind": "transcript", "count": transcripts.count()})

    corrections, _ = story.correction_requests.all().delete()
    if corrections:
        removed.append({"kind": "correction note", "count": corrections})
    if story.body or story.summary or story.title != WITHDRAWN_TITLE:
        removed.append({"kind": "title and written text"})

    # The written story, the title and every saved draft are content; the page stays only as an empty shell so the
    # audit entry and the facilitators' history have something to point at.
    story.title = story.draft_title = WITHDRAWN_TITLE
    story.slug = f"withdrawn-{story.pk}"
    story.seo_title = ""
    story.search_description = ""
    story.summary = ""
    story.body = []
    story.recording = None
    story.withdrawn_at = story.withdrawn_at or now
    story.save()
    # Renaming the slug makes Wagtail remember the old path (on commit), which holds the title's words: forget it
    # too, in a callback that runs after Wagtail's.
    Redirect.objects.filter(redirect_page_id=story.pk).delete()
    transaction.on_commit(lambda: Redirect.objects.filter(redirect_page_id=story.pk).delete())
    revisions = Revision.page_revisions.filter(object_id=str(story.pk))
    if revisions.exists():
        revisions.delete()
        removed.append({"kind": "saved drafts"})
    PageLogEntry.objects.filter(page_id=story.pk).update(label=WITHDRAWN_TITLE)

    media_id = media.id if media is not None else None
    if media is not None:
        # Transcripts and segments go with the row (they cascade); the files go once the deletion is certain.
        media.delete()
        transaction.on_commit(lambda: recording_delete_files(media=StoryMedia(id=media_id)))

    transaction.on_commit(lambda: story_visibility_changed.send(sender=StoryPage, story_id=story.pk))
    transaction.on_commit(lambda: story_withdrawn.send(sender=StoryPage, story_id=story.pk, media_id=media_id))

    if previous is not None:
        if removed:
            previous.removed = previous.removed + removed
            previous.save(update_fields=["removed"])
        return previous
    withdrawal = Withdrawal.objects.create(
        story_id_removed=story.pk,
        story=story,
        requested_by=requested_by,
        participant=participant,
        recorded_by=user if user is not None and user.is_authenticated else None,
        withdrawn_at=now,
        removed=removed,
    )
    logger.info("story %s withdrawn (%s)", story.pk, requested_by)
    return withdrawal
