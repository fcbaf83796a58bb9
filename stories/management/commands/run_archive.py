import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from stories.services.intake import UPLOAD_SWEEP_INTERVAL

# One worker takes every queue: transcription and search indexing share it. transcription_worker is db_worker
# plus the reaper that returns jobs left running by a killed worker.
WORKER_COMMAND = ["transcription_worker", "--queue-name", "*", "--no-reload"]
HOUR_SECONDS = 3600
DAY_SECONDS = 24 * HOUR_SECONDS


class Command(BaseCommand):
    help = "Serve the archive and run its task worker together, on 127.0.0.1:$PORT. Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, port: str, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        processes = {
            "web": subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"]),
            "worker": subprocess.Popen([*manage, *WORKER_COMMAND]),
        }
        self.stdout.write(self.style.SUCCESS(f"Story Archive is at http://127.0.0.1:{port}/ (admin: /admin/)."))
        self.stdout.write("The worker transcribes and indexes in the background. Press Ctrl-C to stop.")
        # The main job stands in for cron: embargoes lift once a day; abandoned uploads go every quarter hour; the
        # search index is verified against the visibility rule every hour.
        schedule = {
            ("queue_daily_tasks",): DAY_SECONDS,
            ("queue_upload_sweep",): UPLOAD_SWEEP_INTERVAL.total_seconds(),
            ("search_index", "verify", "--queue"): HOUR_SECONDS,
        }
        next_run = dict.fromkeys(schedule, time.monotonic())
        try:
            while all(process.poll() is None for process in processes.values()):
                for command, every in schedule.items():
                    if time.monotonic() >= next_run[command]:
                        subprocess.run([*manage, *command], check=False)
                        next_run[command] = time.monotonic() + every
                time.sleep(0.5)
            stopped = next(name for name, process in processes.items() if process.poll() is not None)
            self.stderr.write(f"The {stopped} process stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 30
            for process in processes.values():
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    process.kill()
