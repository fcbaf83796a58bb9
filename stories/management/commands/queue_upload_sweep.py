from django.core.management.base import BaseCommand

from stories.services.intake import UPLOAD_SWEEP_INTERVAL
from stories.tasks import clear_abandoned_uploads


class Command(BaseCommand):
    help = (
        "Queue the sweep that deletes uploads no story took (never submitted, so never consented to). "
        f"Run from cron every {UPLOAD_SWEEP_INTERVAL.seconds // 60} minutes, so they are gone within the hour."
    )

    def handle(self, *args, **options):
        result = clear_abandoned_uploads.enqueue()
        self.stdout.write(f"queued {clear_abandoned_uploads.name} ({result.id})")
