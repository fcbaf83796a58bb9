import shutil
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config):
    """Worker processes must reach the test database, so on SQLite it is a file rather than memory.

    Set while tests are collected, before any test creates the database, so it holds whichever test runs first.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3" or database.get("TEST", {}).get("NAME"):
        return
    # In shared memory where there is some: migrating onto a disk file waits on every sync.
    folder = Path(tempfile.mkdtemp(prefix="storyarchive-db-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture
def database_tasks(settings):
    """Jobs go into the database queue, where real db_worker processes take them, instead of running at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
