"""Writes with side effects for intake, consent, withdrawal and embargoes. Each is atomic and keyword-only."""

import dataclasses
import datetime
import fcntl
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.text import slugify
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import PageLogEntry, Revision, Workflow, WorkflowState

from .generations import ADULT_AGE
from .media import RecordingRefused, RecordingTooLarge, recording_delete_files, recording_store_file
from .models import (
    Consent,
    CorrectionRequest,
    Invite,
    Person,
    ShareUpload,
    StoryIndexPage,
    StoryMedia,
    StoryPage,
    StoryParticipant,
    StorySubmission,
    Theme,
    Visibility,
    Withdrawal,
    manage_token_digest,
    private_storage,
)
from .signals import story_visibility_changed, story_withdrawn

logger = logging.getLogger(__name__)

FACILITATOR_REVIEW = "Facilitator review"
WITHDRAWN_TITLE = "Withdrawn story"


class InviteUnusable(Exception):
    """The invite has expired, been used up or revoked."""


class UploadOffsetMismatch(Exception):
    """The browser sent a piece for a place other than where the stored file ends."""

    def __init__(self, offset: int):
        super().__init__(f"The upload continues at byte {offset}.")
        self.offset = offset


@dataclasses.dataclass(frozen=True)
class StorytellerEntry:
    display_name: str
    role: str
    birth_year: int | None = None
    guardian_name: str = ""
    guardian_agreed: bool = False


def is_possible_minor(*, birth_year: int | None, year: int) -> bool:
    """The same test the visibility rule applies: anyone who may have been 18 or younger needs a guardian."""
    return birth_year is not None and year - birth_year <= ADULT_AGE


def invite_create(
    *,
    community,
    expires_at: datetime.datetime,
    max_uses: int,
    dialogue=None,
    label: str = "",
    user=None,
) -> Invite:
    return Invite.objects.create(
        community=community, dialogue=dialogue, label=label, expires_at=expires_at, max_uses=max_uses, created_by=user
    )


def invite_usable(*, token: str) -> Invite | None:
    """The invite for a token, if it may still be used; None for unknown, expired, used-up or revoked."""
    return Invite.objects.usable().select_related("community", "dialogue").filter(token=token).first()


# Resumable uploads -------------------------------------------------------------------------------------------------


def share_upload_path(upload: ShareUpload) -> Path:
    """Where the pieces of an upload gather: under the private root, named by the upload's UUID only."""
    return Path(private_storage().location) / "uploads" / f"{upload.id.hex}.part"


def share_upload_create(*, invite: Invite, length: int, original_filename: str) -> ShareUpload:
    limit = settings.STORY_UPLOAD_MAX_BYTES
    if length > limit:
        raise RecordingTooLarge(f"This file is larger than the archive accepts ({limit / 1024**3:g} GB at most).")
    if length <= 0:
        raise RecordingRefused("This file is empty.")
    upload = ShareUpload.objects.create(invite=invite, length=length, original_filename=original_filename[:255])
    path = share_upload_path(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return upload


def share_upload_offset(*, upload: ShareUpload) -> int:
    """How many bytes are stored: the file on disk is the truth, whatever the last request said."""
    if upload.recording_id:
        return upload.length
    try:
        return share_upload_path(upload).stat().st_size
    except FileNotFoundError:
        return 0


def share_upload_append(*, upload: ShareUpload, offset: int, chunks: Iterable[bytes]) -> int:
    """Write pieces at the stored offset and return the new offset. A cut-off request keeps what arrived."""
    path = share_upload_path(upload)
    if upload.recording_id:
        raise UploadOffsetMismatch(upload.length)
    if not path.exists():
        raise RecordingRefused("This upload was lost. Please choose the file again.")
    with open(path, "ab") as out:
        # Two requests for the same piece (a retry racing the original) must not both append.
        try:
            fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as busy:
            raise UploadOffsetMismatch(share_upload_offset(upload=upload)) from busy
        stored = out.seek(0, os.SEEK_END)
        if offset != stored:
            raise UploadOffsetMismatch(stored)
        try:
            for chunk in chunks:
                if stored + len(chunk) > upload.length:
                    raise RecordingTooLarge("More bytes arrived than the upload announced.")
                out.write(chunk)
                stored += len(chunk)
        finally:
            out.flush()
    return stored


def share_upload_finish(*, upload: ShareUpload) -> StoryMedia:
    """Turn a complete upload into a stored, probed recording. A refused file leaves neither file nor row."""
    try:
        with transaction.atomic():
            upload = ShareUpload.objects.select_for_update().get(pk=upload.pk)
            if upload.recording_id:
                return upload.recording
            media = recording_store_file(path=share_upload_path(upload), original_filename=upload.original_filename)
            upload.recording = media
            upload.save(update_fields=["recording"])
            return media
    except RecordingRefused:
        # The refusal rolled the transaction back; forget the upload outside it so the deletion sticks.
        share_upload_path(upload).unlink(missing_ok=True)
        ShareUpload.objects.filter(pk=upload.pk).delete()
        raise


def share_upload_discard(*, upload: ShareUpload) -> None:
    share_upload_path(upload).unlink(missing_ok=True)
    if upload.recording_id:
        media = upload.recording
        if not media.stories.exists():
            recording_delete_files(media=media)
            media.delete()
    upload.delete()


def share_uploads_clear_abandoned(*, older_than: datetime.timedelta = datetime.timedelta(days=2)) -> int:
    """Delete uploads never attached to a story, with their files; returns how many went."""
    cutoff = timezone.now() - older_than
    abandoned = ShareUpload.objects.filter(created_at__lt=cutoff).exclude(recording__stories__isnull=False)
    count = 0
    for upload in abandoned.select_related("recording"):
        share_upload_discard(upload=upload)
        count += 1
    return count


# Submitting a story ------------------------------------------------------------------------------------------------


def facilitator_review_workflow() -> Workflow:
    """The moderation workflow every submission enters. Migration 0004 makes it; this makes it again if it went."""
    workflow = Workflow.objects.filter(name=FACILITATOR_REVIEW, active=True).first()
    if workflow is not None:
        return workflow
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, WorkflowPage, WorkflowTask

    from .roles import FACILITATORS

    task = GroupApprovalTask.objects.filter(name="Facilitator approval", active=True).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name="Facilitator approval")
    task.groups.add(Group.objects.get_or_create(name=FACILITATORS)[0])
    workflow = Workflow.objects.create(name=FACILITATOR_REVIEW, active=True)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for index in StoryIndexPage.objects.all():
        WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    return workflow


def _unique_slug(parent, title: str) -> str:
    base = slugify(title)[:60] or "story"
    slug, n = base, 1
    while parent.get_children().filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _written_body(text: str) -> list:
    # The storyteller typed plain text; escape it before it becomes rich text so nothing they type is markup.
    return [("paragraph", linebreaks(escape(text)))] if text.strip() else []


@transaction.atomic
def story_submit(
    *,
    invite: Invite,
    title: str,
    storytellers: list[StorytellerEntry],
    language: str,
    themes: Iterable[Theme],
    text: str = "",
    recording: StoryMedia | None = None,
    consent_scope: str = Consent.Scope.PUBLIC,
    consent_wording: str,
    email: str = "",
    manage_url_for=None,
) -> tuple[StoryPage, str]:
    """Make a draft story from a share form, with its storytellers and their consent, and send it for review.

    Returns the story and the manage token, which is stored only as a digest and so can be shown just this once.
    """
    invite = Invite.objects.select_for_update().get(pk=invite.pk)
    if not invite.is_usable:
        raise InviteUnusable("This link can no longer be used.")
    if not storytellers:
        raise ValueError("A story needs at least one storyteller.")
    today = timezone.localdate()
    index = StoryIndexPage.objects.get()
    story = StoryPage(
        title=title,
        slug=_unique_slug(index, title),
        live=False,
        community=invite.community,
        dialogue=invite.dialogue,
        language=language,
        recorded_on=today,
        recording=recording,
        body=_written_body(text),
        visibility=Visibility.PUBLIC if consent_scope == Consent.Scope.PUBLIC else Visibility.FACILITATORS,
    )
    story.themes.set(list(themes))  # a cluster relation: saved with the page
    index.add_child(instance=story)
    now = timezone.now()
    for order, entry in enumerate(storytellers):
        person = Person.objects.create(display_name=entry.display_name, birth_year=entry.birth_year)
        StoryParticipant.objects.create(page=story, person=person, role=entry.role, sort_order=order)
        guardian = entry.guardian_name.strip() if entry.guardian_agreed else ""
        Consent.objects.create(
            story=story,
            person=person,
            given_by=guardian or entry.display_name,
            given_at=now,
            method=Consent.Method.ONLINE_FORM,
            scope=consent_scope,
            guardian_name=guardian,
            guardian_consented_on=today if guardian else None,
        )
    revision = story.save_revision(log_action=True)
    facilitator_review_workflow().start(story, user=None)
    token = secrets.token_urlsafe(32)
    StorySubmission.objects.create(
        story=story,
        invite=invite,
        manage_token_digest=manage_token_digest(token),
        email=email,
        consent_wording=consent_wording,
    )
    Invite.objects.filter(pk=invite.pk).update(use_count=invite.use_count + 1)
    if email and manage_url_for:
        manage_url = manage_url_for(token)
        transaction.on_commit(lambda: _send_manage_link(email=email, title=title, manage_url=manage_url))
    logger.info("story %s submitted through invite %s (revision %s)", story.pk, invite.pk, revision.pk)
    return story, token


def _send_manage_link(*, email: str, title: str, manage_url: str) -> None:
    body = render_to_string("stories/share/manage_link_email.txt", {"title": title, "manage_url": manage_url})
    try:
        send_mail("Your story in the Story Archive", body, None, [email])
    except OSError:
        # The story is safe and the link was shown on screen; a mail server being down must not undo that.
        logger.exception("could not e-mail a manage link")


def submission_for_token(*, token: str) -> StorySubmission | None:
    if not token:
        return None
    return (
        StorySubmission.objects.select_related("story", "story__recording", "story__community")
        .filter(manage_token_digest=manage_token_digest(token))
        .first()
    )


@transaction.atomic
def correction_request_create(*, story: StoryPage, note: str) -> CorrectionRequest:
    return CorrectionRequest.objects.create(story=story, note=note)


# Withdrawal --------------------------------------------------------------------------------------------------------


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


# Embargoes ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def embargo_lift(*, today: datetime.date | None = None) -> list[int]:
    """Open the published stories whose embargo date has come to the public, and announce it. Returns their ids."""
    today = today or timezone.localdate()
    # Only stories a facilitator has published: an embargo date never publishes a story nobody approved.
    due = StoryPage.objects.select_for_update().filter(
        live=True, embargo_until__isnull=False, embargo_until__lte=today, withdrawn_at__isnull=True
    )
    lifted = list(due.values_list("pk", flat=True))
    StoryPage.objects.filter(pk__in=lifted).update(embargo_until=None)
    for story_id in lifted:
        transaction.on_commit(
            lambda story_id=story_id: story_visibility_changed.send(sender=StoryPage, story_id=story_id)
        )
    if lifted:
        logger.info("lifted the embargo on stories %s", lifted)
    return lifted
