"""Background work for bags. Thin: the task takes an id and calls the service."""

from django_tasks import task


@task()
def write_bag(export_id: int) -> None:
    """Write the bag a facilitator asked for in the admin."""
    from .services import bag_export_run

    bag_export_run(export_id=export_id)
