from django.core.management.base import BaseCommand

from stories.tasks import lift_embargoes


class Command(BaseCommand):
    help = "Queue the daily work (lift embargoes that have come) for the worker. Run from cron."

    def handle(self, *args, **options):
        for task in (lift_embargoes,):
            result = task.enqueue()
            self.stdout.write(f"queued {task.name} ({result.id})")
