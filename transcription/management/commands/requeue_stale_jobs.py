"""`manage.py requeue_stale_jobs`: take back, once, the jobs a killed worker left marked running."""

from django.core.management.base import BaseCommand

from transcription.reaper import stale_jobs_requeue


class Command(BaseCommand):
    help = (
        "Return jobs left running by a killed worker (transcriptions, copies made again after a redaction) to the "
        "queue (after the lease)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lease", type=float, default=None, help="Seconds without a heartbeat (default: setting).")

    def handle(self, *args, lease=None, **options):
        count = stale_jobs_requeue(lease=lease)
        self.stdout.write(f"{count} job(s) returned to the queue.")
