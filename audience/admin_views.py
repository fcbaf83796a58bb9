"""The facilitators' reports: listening by story, community and month; a story's heat strip; searches that found
nothing; and what waits for review. Only for people with the figures permission, each of the stories within their
reach (stories/permissions.py)."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone

from stories.permissions import stories_for
from stories.review_dashboard import review_counts

from .models import StoryListeningDay
from .roles import FIGURES_PERMISSION
from .selectors import DEFAULT_PERIOD, PERIODS, listening_report, story_heat_strip, zero_result_searches
from .services import ZERO_RESULT_SEARCH_DAYS

# The review dashboard's rows a facilitator reads beside the figures: stories waiting and transcripts in trouble.
REVIEW_ROWS = ("Submissions waiting for review", "Transcripts failed", "Transcripts waiting or running")


def figures_permission_required(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.has_perm(FIGURES_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


def _period(request) -> int:
    try:
        period = int(request.GET.get("period", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return period if period in PERIODS else DEFAULT_PERIOD


@figures_permission_required
def listening(request):
    period = _period(request)
    report = listening_report(period=period, today=timezone.localdate(), stories=stories_for(request.user))
    most = max((month.plays for month in report.by_month), default=0)
    return TemplateResponse(
        request,
        "audience/admin/listening.html",
        {
            "report": report,
            "periods": [(value, label, value == period) for value, label in PERIODS.items()],
            "period_label": PERIODS[period],
            "months": [(month, month.plays * 100 // most if most else 0) for month in report.by_month],
            "review_rows": [row for row in review_counts(request.user) if row["label"] in REVIEW_ROWS],
        },
    )


@figures_permission_required
def story(request, story_id: int):
    # A story outside the user's communities answers as a missing one does.
    story = get_object_or_404(stories_for(request.user).select_related("recording", "community"), pk=story_id)
    strip = story_heat_strip(story=story)
    return TemplateResponse(
        request,
        "audience/admin/story.html",
        {
            "story": story,
            "strip": strip,
            "most_heard": sorted((s for s in strip if s.listens), key=lambda s: (-s.listens, s.number))[:5],
            "days": StoryListeningDay.objects.filter(story=story).order_by("-day")[:90],
        },
    )


@figures_permission_required
def searches(request):
    return TemplateResponse(
        request,
        "audience/admin/searches.html",
        {"searches": zero_result_searches(today=timezone.localdate()), "days": ZERO_RESULT_SEARCH_DAYS},
    )
