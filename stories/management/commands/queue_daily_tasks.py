from django.core.management.base import BaseCommand

from stories.tasks import clear_abandoned_uploads, lift_embargoes


class Command(BaseCommand):
    help = (
        "Queue the daily work (lift embargoes that have come, clear abandoned uploads) for the worker. Run from cron."
    )

    def handle(self, *args, **options):
        for task in (lift_embargoes, clear_abandoned_uploads):
            result = task.enqueue()
            self.stdout.write(f"queued {task.name} ({result.id})")
