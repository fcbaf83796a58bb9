"""Helpers for tests that start the archive's real servers (gunicorn, nginx) as processes of their own: free loopback
ports, Redis's presence, waiting until something answers, and stopping what was started. No tests of its own."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

REDIS = ("127.0.0.1", 6379)
# The Redis databases tests empty and fill: two suites that run at once (CI runs SQLite's and PostgreSQL's side by side)
# are given different ones through TEST_REDIS_DATABASES, so that one never empties the other's.
REDIS_DATABASES = tuple(int(n) for n in os.environ.get("TEST_REDIS_DATABASES", "14,15").split(","))


def redis_url(which: int) -> str:
    """The address of this run's Redis database number `which` (0 or 1) of REDIS_DATABASES."""
    return f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DATABASES[which]}"


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def in_ci() -> bool:
    """CI installs and starts every service these tests need, so there a missing one is a failure, not a skip."""
    return bool(os.environ.get("CI"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(url: str, headers: dict | None = None) -> int:
    """The status a GET of url gets; 0 while nothing listens there yet."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # not listening yet
        return 0


def gunicorn_command(*arguments: str) -> list[str]:
    """gunicorn from this interpreter's environment, the one the tests run in."""
    return [sys.executable, "-m", "gunicorn", *arguments]


def start(command: list[str], *, env: dict, log: Path | None = None, cwd: Path | None = None) -> subprocess.Popen:
    """Start a server process; its output goes to log (or nowhere)."""
    output = open(log, "ab") if log else subprocess.DEVNULL  # the child keeps its own copy
    try:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    finally:
        if log:
            output.close()


def wait_until(condition: Callable[[], bool], what: str, *, seconds: float = 60, processes=(), logs=()) -> None:
    """Poll until condition() holds; fail, showing the end of the logs, if it does not in time or a process ends."""

    def give_up(reason: str):
        tails = "".join(f"\n--- {log}\n{_tail(log)}" for log in logs)
        pytest.fail(f"{reason} {what}{tails}")

    deadline = time.monotonic() + seconds
    while not condition():
        for process in processes:
            if process.poll() is not None:
                give_up(f"{' '.join(map(str, process.args[:4]))} exited ({process.returncode}) before")
        if time.monotonic() > deadline:
            give_up(f"gave up after {seconds:g} s waiting until")
        time.sleep(0.2)


def stop(processes, timeout: float = 30) -> None:
    """Terminate the processes this test started (by their own handles), killing any that do not stop in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(Path(log).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
