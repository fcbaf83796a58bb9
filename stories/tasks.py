"""Background work for the stories app. Thin: each task calls one service."""

from django_tasks import task

from . import services


@task()
def lift_embargoes() -> list[int]:
    """Run once a day (cron or a scheduler enqueues it): opens stories whose embargo date has come."""
    return services.embargo_lift()


@task()
def clear_abandoned_uploads() -> int:
    """Run every quarter hour (`queue_upload_sweep`): deletes uploads no story took, with their files."""
    return services.share_uploads_clear_abandoned()
