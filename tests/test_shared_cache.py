"""With CACHE_URL naming Redis, a rate limit holds across gunicorn processes; with each process's own memory, it is
counted once per process (the control)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

REDIS = ("127.0.0.1", 6379)
LIMIT = 3
WAIT_SECONDS = 60


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not redis_answers() and not os.environ.get("CI"),
    reason="needs Redis on 127.0.0.1:6379: run scripts/services redis",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # not listening yet
        return 0


@pytest.fixture
def two_web_processes(tmp_path):
    """Start two gunicorn processes of one worker each on the same database, with or without the shared cache."""
    started = []
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyarchive.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
        "STORYARCHIVE_VAR_DIR": str(tmp_path / "var"),
        "STORY_SHARE_LIMIT_MANAGE": str(LIMIT),
    }
    base_env.pop("CACHE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=settings.BASE_DIR, env=base_env, check=True, capture_output=True,
    )  # fmt: skip

    def start(cache_url: str) -> list[int]:
        env = {**base_env, **({"CACHE_URL": cache_url} if cache_url else {})}
        ports = [free_port(), free_port()]
        for port in ports:
            command = [sys.executable, "-m", "gunicorn", "storyarchive.wsgi", "--bind", f"127.0.0.1:{port}", "-w", "1"]
            started.append(subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + WAIT_SECONDS
        while not all(status(f"http://127.0.0.1:{port}/") == 200 for port in ports):
            if time.monotonic() > deadline:
                pytest.fail("the gunicorn processes did not answer")
            time.sleep(0.2)
        return ports

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def allowed_across(ports: list[int], requests: int) -> int:
    """Guesses at a manage link, sent to the two processes in turn: how many were answered rather than refused."""
    answers = [status(f"http://127.0.0.1:{ports[n % 2]}/my-story/guess-{n}/") for n in range(requests)]
    return sum(1 for answer in answers if answer != 429)


def test_with_redis_the_limit_holds_across_processes(two_web_processes):
    if not redis_answers():
        pytest.fail("CI must start Redis (scripts/services redis) before the tests")
    subprocess.run(["redis-cli", "-n", "15", "flushdb"], check=False, capture_output=True)

    assert allowed_across(two_web_processes("redis://127.0.0.1:6379/15"), 4 * LIMIT) == LIMIT


def test_control_each_process_counts_alone_in_its_own_memory(two_web_processes):
    assert allowed_across(two_web_processes(""), 4 * LIMIT) == 2 * LIMIT
