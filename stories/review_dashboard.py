"""The review dashboard on the admin home: how much is waiting, each count a link to the admin list that shows it.

Counts only: a withdrawn story is counted among this month's withdrawals, never named."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from wagtail.admin.ui.components import Component
from wagtail.models import Workflow, WorkflowState

from .models import CorrectionRequest, Withdrawal
from .services.review import FACILITATOR_REVIEW


def _link(name: str, **query) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def review_counts(*, now=None) -> list[dict]:
    """Each row of the dashboard: what it counts, how many, and the admin list that shows them."""
    from transcription.models import Transcript

    now = now or timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    waiting = WorkflowState.objects.filter(status=WorkflowState.STATUS_IN_PROGRESS, workflow__name=FACILITATOR_REVIEW)
    workflow_id = Workflow.objects.filter(name=FACILITATOR_REVIEW, active=True).values_list("pk", flat=True).first()
    review_query = {"status": WorkflowState.STATUS_IN_PROGRESS}
    if workflow_id:
        review_query["workflow"] = workflow_id
    unfinished = Transcript.objects.exclude(status=Transcript.Status.DONE)
    return [
        {
            "label": "Submissions waiting for review",
            "count": waiting.count(),
            "url": _link("wagtailadmin_reports:workflow", **review_query),
        },
        {
            "label": "Transcripts failed",
            "count": unfinished.filter(status=Transcript.Status.FAILED).count(),
            "url": _link("transcription_admin:unfinished"),
        },
        {
            "label": "Transcripts waiting or running",
            "count": unfinished.exclude(status=Transcript.Status.FAILED).count(),
            "url": _link("transcription_admin:unfinished"),
        },
        {
            "label": "Correction notes from storytellers, not yet resolved",
            "count": CorrectionRequest.objects.filter(resolved_at__isnull=True).count(),
            "url": _link("wagtailsnippets_stories_correctionrequest:list", resolved_at__isnull="true"),
        },
        {
            "label": "Withdrawals this month",
            "count": Withdrawal.objects.filter(withdrawn_at__gte=month_start).count(),
            "url": _link("wagtailsnippets_stories_withdrawal:list", withdrawn_at__gte=month_start.date().isoformat()),
        },
    ]


class ReviewDashboardPanel(Component):
    name = "review_dashboard"
    template_name = "stories/admin/review_dashboard.html"
    order = 50

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["rows"] = review_counts()
        return context
