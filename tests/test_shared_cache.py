"""With CACHE_URL naming Redis, a rate limit holds across gunicorn processes; with each process's own memory, it is
counted once per process (the control)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.servers import (
    REDIS_DATABASES,
    free_port,
    gunicorn_command,
    in_ci,
    redis_answers,
    redis_url,
    start,
    status,
    stop,
    wait_until,
)

LIMIT = 3
WAIT_SECONDS = 60

pytestmark = pytest.mark.skipif(
    not redis_answers() and not in_ci(),
    reason="needs Redis on 127.0.0.1:6379: run scripts/services redis",
)


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

    def start_two(cache_url: str) -> list[int]:
        env = {**base_env, **({"CACHE_URL": cache_url} if cache_url else {})}
        ports = [free_port(), free_port()]
        for port in ports:
            command = gunicorn_command("storyarchive.wsgi", "--bind", f"127.0.0.1:{port}", "-w", "1")
            started.append(start(command, cwd=settings.BASE_DIR, env=env))
        wait_until(
            lambda: all(status(f"http://127.0.0.1:{port}/") == 200 for port in ports),
            "the gunicorn processes answered",
            seconds=WAIT_SECONDS,
            processes=started,
        )
        return ports

    yield start_two
    stop(started)


def allowed_across(ports: list[int], requests: int) -> int:
    """Guesses at a manage link, sent to the two processes in turn: how many were answered rather than refused."""
    answers = [status(f"http://127.0.0.1:{ports[n % 2]}/my-story/guess-{n}/") for n in range(requests)]
    return sum(1 for answer in answers if answer != 429)


def test_with_redis_the_limit_holds_across_processes(two_web_processes):
    if not redis_answers():
        pytest.fail("CI must start Redis (scripts/services redis) before the tests")
    subprocess.run(["redis-cli", "-n", str(REDIS_DATABASES[1]), "flushdb"], check=False, capture_output=True)

    assert allowed_across(two_web_processes(redis_url(1)), 4 * LIMIT) == LIMIT


def test_control_each_process_counts_alone_in_its_own_memory(two_web_processes):
    assert allowed_across(two_web_processes(""), 4 * LIMIT) == 2 * LIMIT
