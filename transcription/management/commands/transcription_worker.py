"""`manage.py transcription_worker`: db_worker plus the reaper that takes back jobs killed workers left running.

It takes every db_worker option (--batch, --max-tasks, --interval, --queue-name ...). Run one or more of these
instead of a bare db_worker so that a worker killed with SIGKILL never strands a recording.
"""

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from transcription.engine import lower_priority
from transcription.reaper import stale_jobs_requeue
from transcription.services import lease_seconds

logger = logging.getLogger("transcription")


class Command(DatabaseWorkerCommand):
    help = "Run the task worker, and take back jobs that a killed worker left running."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--reap-every",
            type=float,
            default=None,
            help="Seconds between looks for stranded jobs (default: half the lease, TRANSCRIPTION_LEASE_SECONDS).",
        )

    def handle(self, *args, reap_every=None, **options):
        # First, so that every thread started from here on (the model's decoding threads too) runs below the web.
        lower_priority(settings.TRANSCRIPTION_WORKER_NICENESS)
        # Once before the first job, so that `--batch` picks up what a killed worker left behind.
        stale_jobs_requeue()
        stop = threading.Event()
        reaper = threading.Thread(
            target=self._reap, args=(stop, reap_every or lease_seconds() / 2), name="reaper", daemon=True
        )
        reaper.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()

    def _reap(self, stop: threading.Event, every: float) -> None:
        try:
            while not stop.wait(every):
                try:
                    stale_jobs_requeue()
                except Exception:  # the worker must go on even if one look fails (a locked database, say)
                    logger.exception("looking for stranded jobs failed")
        finally:
            connection.close()
