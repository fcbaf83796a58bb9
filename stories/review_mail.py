"""Wagtail's review e-mails, told only to people within the story's reach (stories/permissions.py).

The review task belongs to the whole Facilitators group, so Wagtail e-mails a story's submission, with its title, to
every facilitator of every community. These are Wagtail's own notifiers (wagtail/admin/mail.py) with their recipients
narrowed to the people who may work on the story: its community's facilitators and administrators; a private
story's, administrators only. Pages other than stories keep Wagtail's recipients."""

from wagtail.admin.mail import (
    GroupApprovalTaskStateSubmissionEmailNotifier,
    WorkflowStateApprovalEmailNotifier,
    WorkflowStateRejectionEmailNotifier,
    WorkflowStateSubmissionEmailNotifier,
)
from wagtail.models import TaskState, WorkflowState
from wagtail.signals import task_submitted, workflow_approved, workflow_rejected, workflow_submitted

from .permissions import story_within_reach


def _story_of(workflow_state: WorkflowState):
    from .models import StoryPage

    page = workflow_state.content_object
    specific = getattr(page, "specific", None)
    return specific if isinstance(specific, StoryPage) else None


class WithinReachRecipients:
    """A notifier whose recipients are Wagtail's, less anyone the story is outside the reach of."""

    def workflow_state_of(self, instance) -> WorkflowState:
        return instance.workflow_state if isinstance(instance, TaskState) else instance

    def get_recipient_users(self, instance, **kwargs):
        recipients = super().get_recipient_users(instance, **kwargs)
        story = _story_of(self.workflow_state_of(instance))
        if story is None:
            return recipients
        return {user for user in recipients if user is not None and story_within_reach(user, story)}


class TaskSubmittedWithinReach(WithinReachRecipients, GroupApprovalTaskStateSubmissionEmailNotifier):
    pass


class WorkflowSubmittedWithinReach(WithinReachRecipients, WorkflowStateSubmissionEmailNotifier):
    pass


class WorkflowApprovedWithinReach(WithinReachRecipients, WorkflowStateApprovalEmailNotifier):
    pass


class WorkflowRejectedWithinReach(WithinReachRecipients, WorkflowStateRejectionEmailNotifier):
    pass


# (signal, sender, notifier, the dispatch_uid Wagtail connects its own notifier with: wagtail/admin/signal_handlers.py)
NOTIFIERS = (
    (task_submitted, TaskState, TaskSubmittedWithinReach(), "group_approval_task_submitted_email_notification"),
    (workflow_submitted, WorkflowState, WorkflowSubmittedWithinReach(), "workflow_state_submitted_email_notification"),
    (workflow_rejected, WorkflowState, WorkflowRejectedWithinReach(), "workflow_state_rejected_email_notification"),
    (workflow_approved, WorkflowState, WorkflowApprovedWithinReach(), "workflow_state_approved_email_notification"),
)


def connect() -> None:
    """Put these notifiers in the place of Wagtail's, once, whichever app is made ready first: Wagtail's are taken
    off if already connected, and Wagtail's later connect under the same dispatch_uid leaves ours in place."""
    for signal, sender, notifier, dispatch_uid in NOTIFIERS:
        signal.disconnect(sender=sender, dispatch_uid=dispatch_uid)
        signal.connect(notifier, sender=sender, dispatch_uid=dispatch_uid)
