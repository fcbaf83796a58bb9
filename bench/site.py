"""A throwaway archive for the benchmarks that need a running site: its own SQLite file (or a bench's own PostgreSQL
database) and folders under var/bench/.

The developer's db.sqlite3 and var/private are never touched: every command here runs with DATABASE_URL and
STORYARCHIVE_VAR_DIR pointing into the scratch folder.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.common import PROJECT_PYTHON, REPOSITORY, SCRATCH, say, scratch_postgres

GUNICORN = REPOSITORY / ".venv" / "bin" / "gunicorn"
# The deployment's settings file: gunicorn runs here with what it tunes for the web processes.
DEPLOYED_SETTINGS = REPOSITORY / "deploy" / "storyarchive.env"
# A database connection kept between requests, as deployed: a new one for each request costs a story page about a
# fifth of its time here.
AS_DEPLOYED = ("DATABASE_CONN_MAX_AGE",)
# The listening beacon's own gunicorn, where nginx sends POST /listened.
BEACON_UNIT = REPOSITORY / "deploy" / "systemd" / "storyarchive-beacon.service"


def read_settings_file(text: str) -> dict[str, str]:
    """NAME=value lines, as systemd's EnvironmentFile and deploy/manage.sh read them."""
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


class Site:
    """One throwaway archive: a database file, a var folder and the settings that point at them."""

    def __init__(self, name: str, *, database_url: str | None = None):
        """On its own SQLite file, or on the PostgreSQL database at database_url (a bench's own: named bench...)."""
        self.root = SCRATCH / name
        self.database = self.root / "db.sqlite3"
        self.database_url = database_url or f"sqlite:///{self.database}"

    def environment(self, settings: str = "storyarchive.settings.production") -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "DATABASE_URL": self.database_url,
            "STORYARCHIVE_VAR_DIR": str(self.root / "var"),
            # The production settings name static files by their hash, from collectstatic's manifest.
            "STATIC_ROOT": str(self.root / "static"),
            "SECRET_KEY": "bench-only-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TRANSCRIPTION_CACHE_DIR": str(SCRATCH / "models"),
            "PYTHONPATH": str(REPOSITORY),
        }

    def manage(self, *arguments: str, timeout: float = 900) -> str:
        completed = subprocess.run(
            [str(PROJECT_PYTHON), "manage.py", *arguments],
            cwd=REPOSITORY,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
        return completed.stdout

    def shell(self, code: str, timeout: float = 600) -> str:
        return self.manage("shell", "-c", code, timeout=timeout).strip()

    def prepare_demo(self) -> None:
        """Migrate, seed the demo stories, and let one worker pass transcribe and index them; reused when ready."""
        ready = self.root / "ready"
        if ready.exists():
            # Kept from an earlier run, perhaps before a migration or a static file was added.
            self.manage("migrate", "--no-input")
            self.manage("collectstatic", "--no-input")
            return
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        if self.database_url.startswith("postgres"):
            if problem := scratch_postgres(self.database_url, "create"):
                raise RuntimeError(problem)
        say(f"preparing a throwaway archive in {self.root}")
        self.manage("migrate", "--no-input")
        self.manage("collectstatic", "--no-input")
        self.manage("seed_demo")
        self.manage("db_worker", "--batch", "--queue-name", "*", "--no-reload", timeout=1800)
        ready.write_text("demo seeded, transcribed and indexed\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def deployed() -> dict[str, str]:
    """The deployment's settings (deploy/storyarchive.env) that decide how fast its web processes answer."""
    values = read_settings_file(DEPLOYED_SETTINGS.read_text())
    return {name: values[name] for name in AS_DEPLOYED}


def scheduled_as(unit: str) -> list[str]:
    """The command that starts a program as this systemd unit's text schedules it: `chrt --idle 0` for
    CPUSchedulingPolicy=idle, `nice -n N` for Nice=N, nothing for neither."""
    if re.search(r"^CPUSchedulingPolicy=idle$", unit, re.M):
        return ["chrt", "--idle", "0"]
    niceness = re.search(r"^Nice=(\d+)$", unit, re.M)
    return ["nice", "-n", niceness.group(1)] if niceness else []


def beacon_server() -> tuple[list[str], list[str]]:
    """The beacon's own gunicorn as deploy/systemd/storyarchive-beacon.service starts it: (its command line's options
    but the address and the archive, the command that schedules it as the unit does)."""
    unit = BEACON_UNIT.read_text()
    command = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1).split()[1:-1]
    bind = command.index("--bind")
    del command[bind : bind + 2]
    return command, scheduled_as(unit)


@contextlib.contextmanager
def gunicorn(
    site: Site,
    *,
    workers: int | None,
    settings: str = "storyarchive.settings.production",
    timeout: int = 600,
    environment: dict[str, str] | None = None,
    config: Path | None = None,
    options: list[str] | None = None,
    scheduled: list[str] | None = None,
):
    """gunicorn on a free loopback port, with the deployment's database connection reuse (deployed()); yields (base
    URL, process) and stops it afterwards. With `config` (the deployment's deploy/gunicorn.conf.py) and no `workers`,
    the file decides the workers and the timeout; with `options` (a unit's command line without its address), those
    alone decide them; `scheduled` starts it as a unit schedules it (scheduled_as())."""
    port = free_port()
    log = open(site.root / "gunicorn.log", "a")
    if options is None:
        options = ["--config", str(config)] if config else []
        options += ["--workers", str(workers)] if workers else []
        options += [] if config else ["--timeout", str(timeout)]
    process = subprocess.Popen(
        [
            *(scheduled or []),
            str(GUNICORN),
            "storyarchive.wsgi:application",
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=REPOSITORY,
        env={**site.environment(settings), **deployed(), **(environment or {})},
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # As nginx tells the production settings: the visitor came over HTTPS, so no redirect to it.
                request = urllib.request.Request(base + "/", headers={"X-Forwarded-Proto": "https"})
                urllib.request.urlopen(request, timeout=5).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {site.root / 'gunicorn.log'}") from None
                time.sleep(0.3)
        yield base, process
    finally:
        stop(process)
        log.close()


@contextlib.contextmanager
def transcription_worker(site: Site, *, environment: dict[str, str] | None = None):
    """The archive's transcription worker beside a site, for every queue; yields the process and stops it afterwards
    (SIGTERM, which lets its current job finish, then SIGKILL after 30 s). Its output goes to worker.log."""
    log = open(site.root / "worker.log", "a")
    process = subprocess.Popen(
        [str(PROJECT_PYTHON), "manage.py", "transcription_worker", "--queue-name", "*", "--no-reload"],
        cwd=REPOSITORY,
        env={**site.environment(), **(environment or {})},
        stdout=log,
        stderr=log,
    )
    try:
        yield process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn and the worker finish what they are doing), then SIGKILL after 30 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_pids(master: subprocess.Popen) -> list[int]:
    """gunicorn's worker processes: the master's children."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of a process's resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def current_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")
