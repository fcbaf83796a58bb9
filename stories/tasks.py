"""Background work for the stories app. Thin: each task calls one service."""

from django_tasks import task

from . import services


@task()
def lift_embargoes() -> list[int]:
    """Run once a day (cron or a scheduler enqueues it): opens stories whose embargo date has come."""
    return services.embargo_lift()


@task()
def clear_abandoned_uploads() -> int:
    """Run once a day: removes resumable uploads that never became part of a story."""
    return services.share_uploads_clear_abandoned()
