"""Admin: requests for access, answered by the story's community's facilitators (approve with a last day, decline,
revoke), and the audit of every step."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from ..models import AccessEvent, AccessRequest
from ..services.access import AccessRefused, access_link_revoke, access_request_approve, access_request_decline
from . import answerable_by, answers_requests
from .forms import ApprovalForm

PER_PAGE = 50


def _answerable(request, request_id: int) -> AccessRequest:
    """The request, if this user may answer it; 404 alike for one that does not exist and one out of their reach, so
    that neither its story nor its existence is told."""
    return get_object_or_404(answerable_by(request.user).select_related("story__community"), pk=request_id)


def access_request_list(request):
    """Requests of one status (waiting ones first), newest first, each with its actions and its audit."""
    if not answers_requests(request.user):
        raise PermissionDenied
    rows = answerable_by(request.user).select_related("story__community", "decided_by").order_by("-requested_at", "-pk")
    status = request.GET.get("status", AccessRequest.Status.PENDING)
    if status in AccessRequest.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("p"))
    shown = list(page)
    events = AccessEvent.objects.filter(request_id__in=[row.pk for row in shown]).select_related("by")
    return TemplateResponse(
        request,
        "stories/access_requests/admin/list.html",
        {
            "requests": shown,
            "page": page,
            "status": status,
            "statuses": AccessRequest.Status.choices,
            "approval_form": ApprovalForm(),
            "events": events,
        },
    )


def _answer(request, act, done: str, *, then: str = "") -> HttpResponseRedirect:
    """Carry out one answer to a request; say what was done, or why it could not be, and go back to the list."""
    try:
        act()
    except AccessRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done)
    return redirect(reverse("stories_access:list") + then)


@require_POST
def access_request_approve_view(request, request_id: int):
    access_request = _answerable(request, request_id)
    form = ApprovalForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("expires_on", []):
            messages.error(request, f"Request from {access_request.name}: {error}")
        return redirect("stories_access:list")
    expires_on = form.cleaned_data["expires_on"]
    return _answer(
        request,
        lambda: access_request_approve(access_request=access_request, user=request.user, expires_on=expires_on),
        f"Approved: {access_request.name} has been e-mailed a private link that works until {expires_on:%-d %B %Y}.",
    )


@require_POST
def access_request_decline_view(request, request_id: int):
    access_request = _answerable(request, request_id)
    return _answer(
        request,
        lambda: access_request_decline(access_request=access_request, user=request.user),
        f"Declined; {access_request.name} has been told by e-mail.",
    )


@require_POST
def access_link_revoke_view(request, request_id: int):
    access_request = _answerable(request, request_id)
    return _answer(
        request,
        lambda: access_link_revoke(access_request=access_request, user=request.user),
        f"Revoked: the link sent to {access_request.name} no longer plays the story.",
        then="?status=revoked",
    )
