"""The moderation workflow that every submission enters."""

from wagtail.models import Workflow

from ..models import (
    StoryIndexPage,
)

FACILITATOR_REVIEW = "Facilitator review"


def facilitator_review_workflow() -> Workflow:
    """The moderation workflow every submission enters. Migration 0004 makes it; this makes it again if it went."""
    workflow = Workflow.objects.filter(name=FACILITATOR_REVIEW, active=True).first()
    if workflow is not None:
        return workflow
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, WorkflowPage, WorkflowTask

    from ..roles import FACILITATORS

    task = GroupApprovalTask.objects.filter(name="Facilitator approval", active=True).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name="Facilitator approval")
    task.groups.add(Group.objects.get_or_create(name=FACILITATORS)[0])
    workflow = Workflow.objects.create(name=FACILITATOR_REVIEW, active=True)
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    for index in StoryIndexPage.objects.all():
        WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    return workflow
