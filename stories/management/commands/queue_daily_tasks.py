from django.core.management.base import BaseCommand

from stories.tasks import check_fixity, lift_embargoes


class Command(BaseCommand):
    help = (
        "Queue the daily work (lift embargoes that have come, check originals' fixity) for the worker. Run from cron."
    )

    def handle(self, *args, **options):
        for task in (lift_embargoes, check_fixity):
            result = task.enqueue()
            self.stdout.write(f"queued {task.name} ({result.id})")
