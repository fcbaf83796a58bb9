"""Stories arriving: invites, resumable uploads, the share form's submission and correction notes."""

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

from ..media import (
    RecordingRefused,
    RecordingTooLarge,
    original_name_as_text,
    recording_delete_files,
    recording_process,
    recording_store,
    recording_store_file,
)
from ..models import (
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
    manage_token_digest,
    private_storage,
)
from ..storage import staged_leftovers_clear, staging_folder
from .review import facilitator_review_workflow

logger = logging.getLogger(__name__)

# A recording nobody has submitted with consent is kept only while it is on its way. Once nothing has arrived for
# UPLOAD_ABANDONED_AFTER it is abandoned; the sweep runs every UPLOAD_SWEEP_INTERVAL, so it is gone within the hour.
UPLOAD_ABANDONED_AFTER = datetime.timedelta(minutes=45)
UPLOAD_SWEEP_INTERVAL = datetime.timedelta(minutes=15)


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


def share_upload_path(upload: ShareUpload) -> Path:
    """Where the pieces of an upload gather on this machine (a bucket cannot append), named by the upload's UUID only."""
    return staging_folder(private_storage()) / f"{upload.id.hex}.part"


def share_upload_create(*, invite: Invite, length: int, original_filename: str) -> ShareUpload:
    limit = settings.STORY_UPLOAD_MAX_BYTES
    if length > limit:
        raise RecordingTooLarge(f"This file is larger than the archive accepts ({limit / 1024**3:g} GB at most).")
    if length <= 0:
        raise RecordingRefused("This file is empty.")
    upload = ShareUpload.objects.create(
        invite=invite, length=length, original_filename=original_name_as_text(original_filename)
    )
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
    """Turn a complete upload into a stored, probed recording. A refused file leaves neither file nor row.

    Probed only, so a file that is not a recording is refused at once: nothing is copied or transcribed until
    `story_submit` attaches the recording to a story with its storytellers' consent.
    """
    try:
        with transaction.atomic():
            upload = ShareUpload.objects.select_for_update().get(pk=upload.pk)
            if upload.recording_id:
                return upload.recording
            media = recording_store_file(
                path=share_upload_path(upload), original_filename=upload.original_filename, process=False
            )
            upload.recording = media
            upload.save(update_fields=["recording"])
            return media
    except RecordingRefused:
        # The refusal rolled the transaction back; forget the upload outside it so the deletion sticks.
        share_upload_path(upload).unlink(missing_ok=True)
        ShareUpload.objects.filter(pk=upload.pk).delete()
        raise


def share_upload_keep(*, invite: Invite, uploaded) -> ShareUpload:
    """Keep a file that came with a form the storyteller must correct, as a finished upload, so it is not sent again."""
    media = recording_store(source=uploaded, original_filename=uploaded.name, process=False)
    return ShareUpload.objects.create(
        invite=invite, length=media.size, original_filename=media.original_filename, recording=media
    )


def share_upload_discard(*, upload: ShareUpload) -> None:
    share_upload_path(upload).unlink(missing_ok=True)
    if upload.recording_id:
        media = upload.recording
        if not media.stories.exists():
            recording_delete_files(media=media)
            media.delete()
    upload.delete()


def share_upload_last_activity(*, upload: ShareUpload) -> datetime.datetime:
    """When anything last happened to an upload: started, a piece arrived (the file's time) or it was completed."""
    moments = [upload.created_at]
    if upload.recording_id:
        moments.append(upload.recording.created_at)
    try:
        moments.append(datetime.datetime.fromtimestamp(share_upload_path(upload).stat().st_mtime, tz=datetime.UTC))
    except FileNotFoundError:
        pass
    return max(moments)


def share_uploads_clear_abandoned(*, idle_for: datetime.timedelta = UPLOAD_ABANDONED_AFTER) -> int:
    """Delete uploads no story took and nothing reached for `idle_for`, with their files; returns how many went."""
    cutoff = timezone.now() - idle_for
    candidates = ShareUpload.objects.filter(created_at__lt=cutoff).exclude(recording__stories__isnull=False)
    count = 0
    for upload in candidates.select_related("recording"):
        if share_upload_last_activity(upload=upload) < cutoff:
            share_upload_discard(upload=upload)
            count += 1
    if count:
        logger.info("deleted %s abandoned upload(s)", count)
    if leftovers := staged_leftovers_clear(private_storage()):
        logger.info("deleted %s file(s) a stopped process left in the staging folder", leftovers)
    return count


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
    recorded_on: datetime.date | None = None,
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
        recorded_on=recorded_on or today,
        recording=recording,
        body=_written_body(text),
        visibility=Visibility.PUBLIC if consent_scope == Consent.Scope.PUBLIC else Visibility.FACILITATORS,
    )
    story.themes.set(list(themes))  # a cluster relation: saved with the page
    index.add_child(instance=story)
    now = timezone.now()
    for order, entry in enumerate(storytellers):
        person = Person.objects.create(
            display_name=entry.display_name, birth_year=entry.birth_year, community=invite.community
        )
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
    if recording is not None:
        # The storytellers have consented: only now is the recording copied for listening and transcribed.
        recording_process(media=recording)
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
