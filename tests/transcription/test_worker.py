"""Real `manage.py transcription_worker` processes (db_worker plus the reaper) against the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.transcription.recordings import RATE, bad_media_set, damaged_recording, samples, store, write_audio
from transcription import services
from transcription.models import Transcript

# Committed for real, so the worker processes see the queue; the flush after each test empties the database, and the
# root conftest seeds it again.
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
WAIT_SECONDS = 180


def worker_env(**overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.transcription.worker_settings",
        "WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
        "WORKER_PRIVATE_MEDIA_ROOT": str(settings.STORAGES["private"]["OPTIONS"]["location"]),
        **overrides,
    }


def start_worker(*options: str, name: str, **env: str) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "transcription_worker", "--no-reload", "--no-startup-delay"]
    command += ["--interval", "0.2", "--worker-id", name, *options]
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=worker_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def finish(worker: subprocess.Popen) -> str:
    output, _ = worker.communicate(timeout=WAIT_SECONDS)
    return output.decode(errors="replace")


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.05)


def long_recording(tmp_path: Path):
    """About four minutes: speech, long silences, more speech; long enough to stop a worker in the middle."""
    gap = np.zeros(RATE * 45, dtype=np.float32)
    sound = np.concatenate([samples("jfk"), gap, samples("garden"), gap, samples("school"), gap, gap, samples("jfk")])
    return store(write_audio(tmp_path / "long.flac", sound, container="flac", codec="flac"))


def short_recording(tmp_path: Path, name: str = "school"):
    return store(write_audio(tmp_path / f"{name}.wav", samples(name), container="wav", codec="pcm_s16le"))


def test_bad_media_fail_cleanly_while_the_good_ones_finish(tmp_path, database_tasks):
    for content in bad_media_set(tmp_path).values():
        services.transcript_request(media=damaged_recording(content, extension=".mp3"))
    good = short_recording(tmp_path)

    output = finish(start_worker("--batch", name="batch"))

    assert not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists(), output
    assert Transcript.objects.get(media=good).status == Transcript.Status.DONE
    failed = Transcript.objects.exclude(media=good)
    assert failed.count() == 4 and all(t.status == Transcript.Status.FAILED and t.error for t in failed)


def test_the_first_sigterm_lets_the_current_job_finish_and_takes_no_more(tmp_path, database_tasks):
    running = Transcript.objects.get(media=long_recording(tmp_path))
    waiting = Transcript.objects.get(media=short_recording(tmp_path))
    worker = start_worker(name="polite")
    wait_until(
        lambda: Transcript.objects.filter(pk=running.pk, status=Transcript.Status.RUNNING).exists(), "the job runs"
    )

    worker.send_signal(signal.SIGTERM)
    output = finish(worker)

    assert worker.returncode == 0, output
    running.refresh_from_db()
    waiting.refresh_from_db()
    assert running.status == Transcript.Status.DONE and running.segments.exists()
    assert waiting.status == Transcript.Status.QUEUED
    assert DBTaskResult.objects.ready().count() == 1


def test_a_job_left_running_by_a_killed_worker_is_taken_back_and_finished_once(tmp_path, database_tasks):
    transcript = Transcript.objects.get(media=long_recording(tmp_path))
    worker = start_worker(name="doomed", WORKER_LEASE_SECONDS="2")
    wait_until(
        lambda: Transcript.objects.filter(pk=transcript.pk, status=Transcript.Status.RUNNING).exists(), "the job runs"
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=WAIT_SECONDS)
    job = DBTaskResult.objects.get()
    assert job.status == TaskResultStatus.RUNNING, "django_tasks_db leaves a killed worker's job running"

    time.sleep(2.5)  # let the lease run out: the dead worker's heartbeat has stopped
    output = finish(start_worker("--batch", name="rescuer", WORKER_LEASE_SECONDS="2"))

    job.refresh_from_db()
    transcript.refresh_from_db()
    assert job.status == TaskResultStatus.SUCCESSFUL and job.worker_ids == ["doomed", "rescuer"], output
    assert transcript.status == Transcript.Status.DONE and transcript.attempts == 2
    assert Transcript.objects.filter(media_id=transcript.media_id).count() == 1
    indexes = list(transcript.segments.values_list("index", flat=True))
    assert indexes == list(range(len(indexes))) and indexes


def test_two_workers_never_take_the_same_job(tmp_path, database_tasks):
    """Run on PostgreSQL (SKIP LOCKED) and on SQLite (an exclusive transaction) alike."""
    for number in range(4):
        folder = tmp_path / str(number)
        folder.mkdir()
        short_recording(folder, ["school", "garden", "jfk"][number % 3])

    workers = [start_worker("--batch", name=f"worker-{n}") for n in (1, 2)]
    outputs = [finish(worker) for worker in workers]

    jobs = list(DBTaskResult.objects.all())
    assert len(jobs) == 4
    assert all(job.status == TaskResultStatus.SUCCESSFUL and len(job.worker_ids) == 1 for job in jobs), outputs
    assert set(Transcript.objects.values_list("status", "attempts")) == {(Transcript.Status.DONE, 1)}


def test_a_transient_failure_is_tried_again_after_a_pause(tmp_path, database_tasks):
    media = short_recording(tmp_path)
    original = Path(media.file.path)
    original.rename(tmp_path / "away.wav")  # the storage is unreachable for a while

    finish(start_worker("--batch", name="first", WORKER_RETRY_BACKOFF_SECONDS="1"))
    transcript = Transcript.objects.get(media=media)
    assert transcript.status == Transcript.Status.QUEUED and transcript.attempts == 1
    assert "could not be reached" in transcript.error
    first, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == TaskResultStatus.SUCCESSFUL and retry.status == TaskResultStatus.READY
    assert retry.run_after > first.finished_at, "the retry waits before it runs"

    (tmp_path / "away.wav").rename(original)
    wait_until(lambda: DBTaskResult.objects.ready().exists(), "the pause is over")
    finish(start_worker("--batch", name="second", WORKER_RETRY_BACKOFF_SECONDS="1"))
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.DONE and transcript.attempts == 2


def niceness_of(pid: int, thread: int) -> int:
    """The 19th field of a thread's stat; the name in the 2nd may hold spaces, so count from after its ")"."""
    return int(Path(f"/proc/{pid}/task/{thread}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads a process's niceness from /proc")
def test_a_worker_runs_below_the_web_server_so_pages_are_served_first(tmp_path, database_tasks):
    web = os.nice(0)
    transcript = Transcript.objects.get(media=short_recording(tmp_path))
    worker = start_worker(name="modest", TRANSCRIPTION_WORKER_NICENESS="7")
    try:
        # A finished job means the model's decoding threads exist and the worker is in its loop, where SIGTERM
        # is its signal to stop (before that, SIGTERM would still end the process the default way).
        wait_until(
            lambda: (
                worker.poll() is not None
                or Transcript.objects.filter(pk=transcript.pk, status=Transcript.Status.DONE).exists()
            ),
            "the worker has transcribed a recording",
        )
        assert worker.poll() is None, finish(worker)
        threads = [int(name) for name in os.listdir(f"/proc/{worker.pid}/task")]
        assert len(threads) > 1, "the reaper and the model's threads run beside the main one"
        assert {niceness_of(worker.pid, thread) for thread in threads} == {max(web, 7)}
    finally:
        worker.send_signal(signal.SIGTERM)
        output = finish(worker)
    assert worker.returncode == 0, output
