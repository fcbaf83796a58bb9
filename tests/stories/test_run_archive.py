"""`make run`'s process (manage.py run_archive) keeps the site up when its worker is killed, and starts it again."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import free_port

pytestmark = pytest.mark.worker
WAIT_SECONDS = 120


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.2)


def home_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def worker_pid(parent: int) -> int | None:
    """The transcription worker among the archive process's children, if one runs."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for child in children:
        try:
            if b"transcription_worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        except FileNotFoundError:
            continue
    return None


@pytest.fixture
def archive_env(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyarchive.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
        "STORYARCHIVE_VAR_DIR": str(tmp_path / "var"),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input"], cwd=settings.BASE_DIR, env=env, check=True, capture_output=True)
    return env


def test_a_killed_worker_is_started_again_and_the_site_stays_up(archive_env, tmp_path):
    port = free_port()
    log = tmp_path / "run_archive.log"
    with open(log, "wb") as output:
        archive = subprocess.Popen(
            [sys.executable, "manage.py", "run_archive", "--port", str(port)],
            cwd=settings.BASE_DIR, env=archive_env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: home_answers(port), "the archive answers")
        wait_until(lambda: worker_pid(archive.pid) is not None, "the worker runs")
        first = worker_pid(archive.pid)

        os.kill(first, signal.SIGKILL)

        wait_until(lambda: b"The worker is running again" in log.read_bytes(), "the worker is started again")
        assert b"The worker stopped (killed by signal 9)" in log.read_bytes()
        second = worker_pid(archive.pid)
        assert second is not None and second != first
        assert home_answers(port), "the site stayed up"
        assert archive.poll() is None
    finally:
        archive.send_signal(signal.SIGINT)
        try:
            archive.wait(timeout=60)
        except subprocess.TimeoutExpired:
            archive.kill()
