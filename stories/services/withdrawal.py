"""Taking a story back: what is removed, and the audit that keeps no content."""

import logging

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.contrib.redirects.models import Redirect
from wagtail.images import get_image_model
from wagtail.models import Comment, ModelLogEntry, PageLogEntry, ReferenceIndex, Revision, WorkflowState
from wagtail.search.index import insert_or_update_object

from ..media import recording_delete_files
from ..models import (
    Chapter,
    Consent,
    Person,
    StoryMedia,
    StoryPage,
    StoryParticipant,
    StorySubmission,
    Withdrawal,
    WithdrawnStoryFingerprint,
    withdrawn_story_fingerprints,
)
from ..signals import story_visibility_changed, story_withdrawn
from .pictures import files_delete_on_commit, picture_file_names, pictures_shown_by

logger = logging.getLogger(__name__)


WITHDRAWN_TITLE = "Withdrawn story"
WITHDRAWN_PERSON = "Someone whose story was withdrawn"
WITHDRAWN_PICTURE = "A picture of a withdrawn story"


@transaction.atomic
def story_withdraw(
    *,
    story: StoryPage,
    requested_by: str,
    user=None,
    participant: Person | None = None,
) -> Withdrawal:
    """Take a story back: unpublish it, withdraw every consent, delete its recording, copies, transcripts and text,
    and forget its people: only a note that the story was withdrawn, and when, is kept.

    Idempotent: a second call removes anything left over and returns the first audit entry.
    """
    story = StoryPage.objects.select_for_update().get(pk=story.pk)
    previous = story.withdrawals.order_by("withdrawn_at").first()
    now = timezone.now()
    removed: list[dict] = []
    # Taken before the story is emptied: what an import would match it by, and the asker's part in it.
    fingerprints = _fingerprints(story)
    pictures = _pictures_of(story)
    participant_role = (
        story.participants.filter(person=participant).values_list("role", flat=True).first() if participant else None
    )

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
    removed.extend(_forget_people(story=story))

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

    # Chapter titles are the story's words too.
    chapters, _ = Chapter.objects.filter(story=story).delete()
    if chapters:
        removed.append({"kind": "chapters", "count": chapters})
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
    story.cover_image = None
    story.keywords.clear()
    story.withdrawn_at = story.withdrawn_at or now
    # Its drafts are deleted below: nothing is left unpublished ("View draft" would open the emptied shell).
    story.has_unpublished_changes = False
    story.save()
    # The admin's search index holds the title and text too: replace them now rather than when a worker gets to it.
    insert_or_update_object(story)
    # Renaming the slug makes Wagtail remember the old path (on commit), which holds the title's words: forget it
    # too, in a callback that runs after Wagtail's.
    Redirect.objects.filter(redirect_page_id=story.pk).delete()
    transaction.on_commit(lambda: Redirect.objects.filter(redirect_page_id=story.pk).delete())
    revisions = Revision.page_revisions.filter(object_id=str(story.pk))
    if revisions.exists():
        revisions.delete()
        removed.append({"kind": "saved drafts"})
    # The history keeps what happened and when; the labels and details held old titles and comments.
    PageLogEntry.objects.filter(page_id=story.pk).update(label=WITHDRAWN_TITLE, data={})
    comments, _ = Comment.objects.filter(page_id=story.pk).delete()
    if comments:
        removed.append({"kind": "comments"})
    deleted_pictures = _delete_pictures_shown_nowhere_else(story=story, image_ids=pictures)
    if deleted_pictures:
        removed.append({"kind": "pictures", "count": deleted_pictures})

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
        _keep_fingerprints(withdrawal=previous, fingerprints=fingerprints)
        return previous
    withdrawal = Withdrawal.objects.create(
        story_id_removed=story.pk,
        story=story,
        # Its community's facilitators see the entry (stories/permissions.py), even once the story's shell is gone.
        community_id=story.community_id,
        requested_by=requested_by,
        participant_role=participant_role or "",
        recorded_by=user if user is not None and user.is_authenticated else None,
        withdrawn_at=now,
        removed=removed,
    )
    _keep_fingerprints(withdrawal=withdrawal, fingerprints=fingerprints)
    logger.info("story %s withdrawn (%s)", story.pk, requested_by)
    return withdrawal


def _fingerprints(story: StoryPage) -> set[str]:
    """Every title the story went by (saved drafts included) with its community, and its recording."""
    if story.community_id is None:
        titles = set()
    else:
        titles = {story.title, story.draft_title} - {WITHDRAWN_TITLE}
        for content in Revision.page_revisions.filter(object_id=str(story.pk)).values_list("content", flat=True):
            if isinstance(content, dict) and content.get("title"):
                titles.add(content["title"])
    return withdrawn_story_fingerprints(
        community=story.community.name if story.community_id else "",
        titles=titles,
        recording_sha256=story.recording.sha256 if story.recording_id else None,
    )


def _pictures_of(story: StoryPage) -> set[int]:
    """The ids of the pictures the story shows, or showed in any saved draft."""
    revisions = Revision.page_revisions.filter(object_id=str(story.pk))
    return pictures_shown_by([story, *(revision.as_object() for revision in revisions)])


def _delete_pictures_shown_nowhere_else(*, story: StoryPage, image_ids: set[int]) -> int:
    """Delete the pictures of the emptied story that nothing else shows, with their resized copies, and their files
    on commit (stories/services/pictures.py); a picture another story, page or community uses stays. Returns how
    many were deleted."""
    if not image_ids:
        return 0
    # The index learns of a save through the task worker: the emptied story's own uses go now.
    ReferenceIndex.create_or_update_for_object(story)
    image_model = get_image_model()
    # The rows that point at a picture (a story's cover, a community's picture) are asked directly, not through the
    # index; what the index alone knows of (a picture in a page's text) is as current as the worker has made it.
    pointers = [
        relation
        for relation in image_model._meta.get_fields(include_hidden=True)
        if relation.one_to_many
        and relation.auto_created
        and relation.related_model is not image_model.get_rendition_model()
    ]
    unused = [
        image
        for image in image_model.objects.filter(pk__in=image_ids)
        if not ReferenceIndex.get_references_to(image).exists()
        and not any(
            relation.related_model._base_manager.filter(**{relation.field.name: image}).exists()
            for relation in pointers
        )
    ]
    _forget_log_labels(image_model, [image.pk for image in unused], label=WITHDRAWN_PICTURE)
    for image in unused:
        files_delete_on_commit(image.file.storage, picture_file_names(image))
        image.delete()
    return len(unused)


def _keep_fingerprints(*, withdrawal: Withdrawal, fingerprints: set[str]) -> None:
    kept = set(withdrawal.fingerprints.values_list("value", flat=True))
    WithdrawnStoryFingerprint.objects.bulk_create(
        [WithdrawnStoryFingerprint(withdrawal=withdrawal, value=value) for value in sorted(fingerprints - kept)]
    )


def _forget_people(*, story: StoryPage) -> list[dict]:
    """Keep of the story's people only that consent was withdrawn and when.

    Consent records lose the person, who gave it and the guardian; the storyteller's e-mail goes; a person no other
    story names is deleted."""
    removed = []
    people = set(story.participants.values_list("person_id", flat=True)) | set(
        Consent.objects.filter(story=story, person__isnull=False).values_list("person_id", flat=True)
    )
    consents = Consent.objects.filter(story=story).filter(
        Q(person__isnull=False) | ~Q(given_by="") | ~Q(guardian_name="") | Q(guardian_consented_on__isnull=False)
    )
    consent_ids = list(consents.values_list("pk", flat=True))
    if consent_ids:
        Consent.objects.filter(pk__in=consent_ids).update(
            person=None, given_by="", guardian_name="", guardian_consented_on=None
        )
        _forget_log_labels(Consent, consent_ids, label=f"Withdrawn consent for “{WITHDRAWN_TITLE}”")
        removed.append({"kind": "names on consent records", "count": len(consent_ids)})
    participants, _ = StoryParticipant.objects.filter(page=story).delete()
    if participants:
        removed.append({"kind": "participants", "count": participants})
    if StorySubmission.objects.filter(story=story).exclude(email="").update(email=""):
        removed.append({"kind": "e-mail address"})
    unused = Person.objects.filter(pk__in=people).exclude(participations__isnull=False).exclude(consents__isnull=False)
    unused_ids = list(unused.values_list("pk", flat=True))
    if unused_ids:
        _forget_log_labels(Person, unused_ids, label=WITHDRAWN_PERSON)
        # One by one, so the admin's search index forgets each name (it listens to each row's deletion).
        for person in Person.objects.filter(pk__in=unused_ids):
            person.delete()
        removed.append({"kind": "people", "count": len(unused_ids)})
    return removed


def _forget_log_labels(model, ids, *, label: str) -> None:
    """The admin's history names each record by its title (a person's name); keep the entries, not the names."""
    ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in ids]
    ).update(label=label, data={})
