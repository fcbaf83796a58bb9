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
# A worker that dies within this long of starting counts as dying again; each such death doubles the wait before the
# next start, up to the longest wait.
WORKER_STEADY_SECONDS = 600
WORKER_LONGEST_WAIT_SECONDS = 60
# The main job stands in for cron (deploy/cron/storyarchive in production): embargoes lift once a day; abandoned
# uploads go every quarter hour; the search index is verified against the visibility rule every hour, and searches
# that found nothing are forgotten once 90 days old.
SCHEDULE = {
    ("queue_daily_tasks",): DAY_SECONDS,
    ("queue_upload_sweep",): UPLOAD_SWEEP_INTERVAL.total_seconds(),
    ("search_index", "verify", "--queue"): HOUR_SECONDS,
    ("queue_audience_tasks",): HOUR_SECONDS,
}


class Command(BaseCommand):
    help = (
        "Serve the archive and run its task worker together, on 127.0.0.1:$PORT; a worker that dies is started again. "
        "Ctrl-C stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, port: str, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Links in Wagtail's notification e-mails lead to the port served here, unless the address is set.
        os.environ.setdefault("WAGTAILADMIN_BASE_URL", f"http://127.0.0.1:{port}")
        commands = {
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [*manage, *WORKER_COMMAND],
        }
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"Story Archive is at http://127.0.0.1:{port}/ (admin: /admin/)."))
        self.stdout.write("The worker transcribes and indexes in the background. Press Ctrl-C to stop.")
        next_run = dict.fromkeys(SCHEDULE, time.monotonic())
        worker_started, quick_deaths, restart_at = time.monotonic(), 0, None
        try:
            while processes["web"].poll() is None:
                worker = processes["worker"]
                if restart_at is None and worker.poll() is not None:
                    # A worker killed (out of memory, kill -9) or crashed: the site stays up and the worker comes
                    # back; the jobs it held return to the queue once their lease runs out. One that keeps dying
                    # waits longer each time, up to a minute.
                    quick = time.monotonic() - worker_started < WORKER_STEADY_SECONDS
                    quick_deaths = quick_deaths + 1 if quick else 0
                    wait = min(2**quick_deaths, WORKER_LONGEST_WAIT_SECONDS)
                    code = worker.returncode
                    how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
                    self.stderr.write(f"The worker stopped ({how}); starting it again in {wait} s.")
                    restart_at = time.monotonic() + wait
                if restart_at is not None and time.monotonic() >= restart_at:
                    processes["worker"] = subprocess.Popen(commands["worker"])
                    worker_started, restart_at = time.monotonic(), None
                    self.stderr.write(f"The worker is running again (process {processes['worker'].pid}).")
                for command, every in SCHEDULE.items():
                    if time.monotonic() >= next_run[command]:
                        subprocess.run([*manage, *command], check=False)
                        next_run[command] = time.monotonic() + every
                time.sleep(0.5)
            self.stderr.write("The web server stopped; stopping the worker.")
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
