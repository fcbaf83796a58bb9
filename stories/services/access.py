"""Requests for access to a story "on request": made by a visitor, answered by its community's facilitators, a
private link e-mailed on approval, revoked or ended, every step in the audit (AccessEvent)."""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ..models import AccessEvent, AccessRequest, StoryPage, access_link_digest, access_link_token

logger = logging.getLogger(__name__)


class AccessRefused(Exception):
    """The answer cannot be given: the request was answered already, or the story is no longer on request."""


def _audit(*, action: str, access_request: AccessRequest, by=None, expires_on=None) -> None:
    AccessEvent.objects.create(
        action=action,
        request_id=access_request.pk,
        story_id=access_request.story_id,
        by=by if by is not None and by.is_authenticated else None,
        expires_on=expires_on,
    )


def _pending_locked(access_request: AccessRequest) -> AccessRequest:
    """The request locked for an answer, with its story; refused when it has been answered already."""
    access_request = AccessRequest.objects.select_for_update().select_related("story").get(pk=access_request.pk)
    if access_request.status != AccessRequest.Status.PENDING:
        raise AccessRefused("This request has been answered already.")
    return access_request


def _decide(access_request: AccessRequest, *, status: str, action: str, user, **fields) -> None:
    """Record a facilitator's answer (who, when, and any of the request's `fields` it sets), and audit it."""
    access_request.status = status
    access_request.decided_by = user
    access_request.decided_at = timezone.now()
    for name, value in fields.items():
        setattr(access_request, name, value)
    access_request.save(update_fields=["status", "decided_by", "decided_at", *fields])
    _audit(action=action, access_request=access_request, by=user, expires_on=fields.get("expires_on"))


def _tell_requester(access_request: AccessRequest, body: str) -> None:
    """E-mail the requester once the answer is committed."""
    recipient = access_request.email
    transaction.on_commit(lambda: send_mail("Your request for access to a story", body, None, [recipient]))


@transaction.atomic
def access_request_create(*, story: StoryPage, name: str, email: str, purpose: str) -> AccessRequest:
    """A visitor asks for a story on request; its community's facilitators are told by e-mail."""
    from ..access_requests import facilitators_of

    if not story.is_available_on_request():
        raise AccessRefused("This story is not available on request.")
    access_request = AccessRequest.objects.create(story=story, name=name, email=email, purpose=purpose)
    _audit(action=AccessEvent.Action.REQUESTED, access_request=access_request)
    addresses = sorted({user.email for user in facilitators_of(story.community) if user.email})
    if addresses:
        review_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("stories_access:list")
        # The requester's words stay in the admin: the mail says only that there is a request to answer.
        body = (
            f"Someone has asked to hear a story from {story.community} that is available on request.\n\n"
            f"Approve or decline it in the admin: {review_url}\n"
        )
        transaction.on_commit(lambda: send_mail("A request for access to a story", body, None, addresses))
    return access_request


@transaction.atomic
def access_request_approve(
    *, access_request: AccessRequest, user, expires_on: datetime.date, today: datetime.date | None = None
) -> str:
    """Approve a waiting request until `expires_on` (inclusive) and e-mail the requester the private link.

    Returns the link's token; only its digest is kept."""
    access_request = _pending_locked(access_request)
    if expires_on < (today or timezone.localdate()):
        raise AccessRefused("The link's last day cannot be in the past.")
    if not access_request.story.is_available_on_request():
        raise AccessRefused("The story is no longer available on request, so no link can be sent.")
    token = access_link_token()
    _decide(
        access_request,
        status=AccessRequest.Status.APPROVED,
        action=AccessEvent.Action.APPROVED,
        user=user,
        expires_on=expires_on,
        link_digest=access_link_digest(token),
    )
    link = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("stories:access-link", args=[token])
    body = (
        f"Dear {access_request.name},\n\n"
        f"Your request to hear a story from {access_request.story.community} has been approved. "
        f"This private link plays it until the end of {expires_on:%-d %B %Y}:\n\n{link}\n\n"
        "Please keep the link to yourself: it is for you alone, and the storytellers' community may end it at any "
        "time.\n"
    )
    _tell_requester(access_request, body)
    return token


@transaction.atomic
def access_request_decline(*, access_request: AccessRequest, user) -> AccessRequest:
    """Decline a waiting request. The requester is told, without a reason."""
    access_request = _pending_locked(access_request)
    _decide(access_request, status=AccessRequest.Status.DECLINED, action=AccessEvent.Action.DECLINED, user=user)
    body = (
        f"Dear {access_request.name},\n\n"
        f"Thank you for your interest in a story from {access_request.story.community}. "
        "Its community cannot open it to you at this time.\n"
    )
    _tell_requester(access_request, body)
    return access_request


@transaction.atomic
def access_link_revoke(*, access_request: AccessRequest, user) -> AccessRequest:
    """End an approved request's private link now."""
    access_request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if access_request.status != AccessRequest.Status.APPROVED:
        raise AccessRefused("Only an approved request's link can be revoked.")
    access_request.status = AccessRequest.Status.REVOKED
    access_request.ended_at = timezone.now()
    access_request.save(update_fields=["status", "ended_at"])
    _audit(action=AccessEvent.Action.REVOKED, access_request=access_request, by=user)
    return access_request


def access_link_used(*, access_request: AccessRequest) -> None:
    """Count one opening of the private link: how many and when last, never from where."""
    now = timezone.now()
    AccessRequest.objects.filter(pk=access_request.pk).update(link_uses=F("link_uses") + 1, link_last_used_at=now)
    _audit(action=AccessEvent.Action.LINK_USED, access_request=access_request)


@transaction.atomic
def access_ended_for_stories(*, story_ids) -> int:
    """End every waiting request and open link of these stories that are no longer available on request
    (withdrawn, made private or public, consent withdrawn, unpublished): for good, even if the story comes back."""
    open_states = [AccessRequest.Status.PENDING, AccessRequest.Status.APPROVED]
    # Most stories never had a request: one look at the requests' index, and the rule is asked only of the rest.
    story_ids = set(
        AccessRequest.objects.filter(story_id__in=set(story_ids), status__in=open_states).values_list(
            "story_id", flat=True
        )
    )
    if not story_ids:
        return 0
    still_on_request = set(
        StoryPage.objects.available_on_request().filter(pk__in=story_ids).values_list("pk", flat=True)
    )
    gone = story_ids - still_on_request
    if not gone:
        return 0
    ending = list(AccessRequest.objects.select_for_update().filter(story_id__in=gone, status__in=open_states))
    now = timezone.now()
    for access_request in ending:
        access_request.status = AccessRequest.Status.ENDED
        access_request.ended_at = now
        access_request.save(update_fields=["status", "ended_at"])
        _audit(action=AccessEvent.Action.ENDED, access_request=access_request)
    return len(ending)
