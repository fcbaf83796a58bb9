"""Background work for the stories app. Thin: each task calls one service."""

from django_tasks import task

from . import services
from .services.fixity import fixity_check


@task()
def lift_embargoes() -> list[int]:
    """Run once a day (cron or a scheduler enqueues it): opens stories whose embargo date has come."""
    return services.embargo_lift()


# What the daily fixity check reads at most: about two minutes of disk at 100 MB/s.
FIXITY_BYTES_PER_DAY = 10 * 1024**3


@task()
def check_fixity() -> dict:
    """Run once a day (`queue_daily_tasks`): hashes again the originals checked longest ago, up to a byte budget."""
    report = fixity_check(max_bytes=FIXITY_BYTES_PER_DAY)
    return {"checked": report.checked, "bytes": report.bytes_read, "failed": [str(m.pk) for m in report.failed]}


@task()
def clear_abandoned_uploads() -> int:
    """Run every quarter hour (`queue_upload_sweep`): deletes uploads no story took, with their files."""
    return services.share_uploads_clear_abandoned()
