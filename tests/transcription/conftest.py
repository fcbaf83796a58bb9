import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """Worker processes must reach the test database, so on SQLite it is a file rather than memory."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # In shared memory where there is some: migrating onto a disk file waits on every sync.
        folder = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else tmp_path_factory.mktemp("db")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")
        yield
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield


@pytest.fixture
def database_tasks(settings):
    """Jobs go into the database queue, where real db_worker processes take them, instead of running at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
