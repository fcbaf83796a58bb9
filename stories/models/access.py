"""Requests for access to a story "on request": who asked and why, the facilitators' answer, the private link, and
the audit of every step. Only stories/services/access.py writes these rows."""

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.db import models
from django.utils import timezone

ACCESS_LINK_SALT = "stories.access-link"


def access_link_token() -> str:
    """A new private link's token: 32 random bytes, signed with the site's key."""
    return signing.Signer(salt=ACCESS_LINK_SALT).sign(secrets.token_urlsafe(32))


def access_link_digest(token: str) -> str | None:
    """What is stored of a token (its SHA-256); None for a token this site did not sign."""
    try:
        signing.Signer(salt=ACCESS_LINK_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return hashlib.sha256(token.encode()).hexdigest()


class AccessRequest(models.Model):
    """One person's request to hear one story; approved, it holds that story's one private link for this request."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Link revoked"
        ENDED = "ended", "Ended: the story is no longer on request"

    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="access_requests")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    purpose = models.TextField(max_length=2000)
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True, help_text="The last day the private link plays the story.")
    # The private link is kept only as a digest: a copy of the database cannot open the story.
    link_digest = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When the link was revoked or ended.")
    link_uses = models.PositiveIntegerField(default=0)
    link_last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["story", "status"], name="access_request_story_status")]

    def __str__(self):
        return f"{self.name} for story {self.story_id} ({self.get_status_display()})"

    def link_open(self, *, today=None) -> bool:
        """Approved, not revoked or ended, and not past its last day (the story's own state is asked separately)."""
        today = today or timezone.localdate()
        return (
            self.status == self.Status.APPROVED
            and self.ended_at is None
            and self.expires_on is not None
            and today <= self.expires_on
        )


class AccessEvent(models.Model):
    """The audit of requests for access: made, approved (by whom, until when), declined, link used, revoked, ended.

    It keeps no network address, and outlives the request: a story's deletion leaves its events."""

    class Action(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        LINK_USED = "link_used", "Link used"
        REVOKED = "revoked", "Link revoked"
        ENDED = "ended", "Ended: the story is no longer on request"

    action = models.CharField(max_length=10, choices=Action.choices)
    request_id = models.PositiveBigIntegerField(db_index=True)
    story_id = models.PositiveBigIntegerField(db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()}: request {self.request_id}"
