"""How stories arrive and leave: invites, resumable uploads, submissions, correction notes and withdrawals."""

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from wagtail.admin.panels import FieldPanel

from ..admin_forms import WithinReachModelForm
from .catalogue import Community, Dialogue
from .media import StoryMedia
from .pages import StoryPage
from .people import StoryParticipant


def invite_token() -> str:
    return secrets.token_urlsafe(24)


def manage_token_digest(token: str) -> str:
    """The manage link is kept only as a digest, so a copy of the database cannot open anyone's story."""
    return hashlib.sha256(token.encode()).hexdigest()


WITHDRAWN_STORY_SALT = "stories.withdrawal.fingerprint"


def withdrawn_story_fingerprints(
    *, community: str, titles: Iterable[str], recording_sha256: str | None = None
) -> set[str]:
    """Keyed hashes of what an import matches a story by: its community and title, and its recording's SHA-256.

    Kept when a story is withdrawn so no import can bring it back; without the secret key they reveal nothing."""

    def normal(text: str) -> str:
        return " ".join(text.split()).casefold()

    def keyed(value: str) -> str:
        return salted_hmac(WITHDRAWN_STORY_SALT, value, algorithm="sha256").hexdigest()

    fingerprints = {keyed(f"story\n{normal(community)}\n{normal(title)}") for title in titles if title.strip()}
    if recording_sha256:
        fingerprints.add(keyed(f"recording\n{recording_sha256.lower()}"))
    return fingerprints


class InviteQuerySet(models.QuerySet):
    def usable(self, *, now: datetime.datetime | None = None):
        now = now or timezone.now()
        return self.filter(expires_at__gt=now, use_count__lt=F("max_uses"), revoked=False)


class Invite(models.Model):
    """A share link a facilitator hands out: /share/<token>/ lets storytellers send stories into one community."""

    token = models.CharField(max_length=64, unique=True, default=invite_token, editable=False)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="invites")
    dialogue = models.ForeignKey(Dialogue, null=True, blank=True, on_delete=models.SET_NULL, related_name="invites")
    label = models.CharField(max_length=200, blank=True, help_text="For facilitators: who the link is for.")
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=20, help_text="How many stories this link may send.")
    use_count = models.PositiveIntegerField(default=0, editable=False)
    revoked = models.BooleanField(default=False, help_text="Tick to stop the link at once.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InviteQuerySet.as_manager()

    panels = [
        FieldPanel("community"),
        FieldPanel("dialogue"),
        FieldPanel("label"),
        FieldPanel("expires_at"),
        FieldPanel("max_uses"),
        FieldPanel("revoked"),
    ]
    base_form_class = WithinReachModelForm

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.label or f"Invite for {self.community}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("stories:share", args=[self.token])

    @property
    def is_usable(self) -> bool:
        return not self.revoked and self.expires_at > timezone.now() and self.use_count < self.max_uses


class ShareUpload(models.Model):
    """A recording arriving in pieces; it survives a dropped connection and resumes at the stored offset."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invite = models.ForeignKey(Invite, on_delete=models.CASCADE, related_name="uploads")
    length = models.PositiveBigIntegerField(help_text="The size the browser announced, in bytes.")
    original_filename = models.CharField(max_length=255, blank=True)
    recording = models.OneToOneField(
        StoryMedia, null=True, blank=True, on_delete=models.SET_NULL, related_name="share_upload"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.id)


class StorySubmission(models.Model):
    """What a storyteller sent through an invite, and the digest of their private manage link."""

    story = models.OneToOneField(StoryPage, on_delete=models.CASCADE, related_name="submission")
    invite = models.ForeignKey(Invite, null=True, on_delete=models.SET_NULL, related_name="submissions")
    manage_token_digest = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True, help_text="Only to send the manage link; never public.")
    consent_wording = models.TextField(help_text="The consent text exactly as the storyteller saw it.")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"Submission of story {self.story_id}"


class CorrectionRequest(models.Model):
    """A storyteller's note asking a facilitator to fix something in their story."""

    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="correction_requests")
    note = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    panels = [FieldPanel("story", read_only=True), FieldPanel("note", read_only=True), FieldPanel("resolved_at")]
    base_form_class = WithinReachModelForm

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Correction for story {self.story_id}"


class WithdrawalQuerySet(models.QuerySet):
    def recognising(self, fingerprints: Iterable[str]):
        """The withdrawals of a story with any of these fingerprints (see withdrawn_story_fingerprints)."""
        return self.filter(fingerprints__value__in=list(fingerprints)).distinct()


class Withdrawal(models.Model):
    """The audit trail of a withdrawal. It holds no content: who asked, who recorded it, when, what was removed.

    The fingerprints let the importer recognise the story without keeping any of its words."""

    class RequestedBy(models.TextChoices):
        STORYTELLER = "storyteller", "The storyteller, through their private link"
        FACILITATOR = "facilitator", "A facilitator, for a participant"

    story_id_removed = models.PositiveBigIntegerField(help_text="The story's id; the story itself keeps no content.")
    story = models.ForeignKey(StoryPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="withdrawals")
    # Whose facilitators see this entry (stories/permissions.py): kept here, as the story's shell may be deleted.
    community = models.ForeignKey(
        Community,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="withdrawals",
        help_text="The story's community when it was withdrawn; its facilitators see this entry.",
    )
    requested_by = models.CharField(max_length=20, choices=RequestedBy.choices)
    participant_role = models.CharField(
        max_length=20,
        choices=StoryParticipant.Role.choices,
        blank=True,
        help_text="The part in the story of the participant who asked; never their name.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(default=timezone.now)
    removed = models.JSONField(default=list, help_text="What was deleted, by kind and size; never the content.")

    objects = WithdrawalQuerySet.as_manager()

    class Meta:
        ordering = ["-withdrawn_at"]

    def __str__(self):
        return f"Withdrawal of story {self.story_id_removed} on {self.withdrawn_at:%Y-%m-%d}"


class WithdrawnStoryFingerprint(models.Model):
    """One keyed hash of a withdrawn story's identity, so the importer refuses to bring the story back."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.CASCADE, related_name="fingerprints")
    value = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["withdrawal", "value"], name="one_fingerprint_per_withdrawal")]

    def __str__(self):
        return self.value
