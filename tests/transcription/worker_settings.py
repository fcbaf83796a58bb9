"""Settings for db_worker processes started by the worker tests: the test database, the test's private files."""

import os
from pathlib import Path

from storyarchive.settings.test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DATABASES["default"]["NAME"] = os.environ["WORKER_DATABASE_NAME"]  # noqa: F405
PRIVATE_MEDIA_ROOT = Path(os.environ["WORKER_PRIVATE_MEDIA_ROOT"])
STORAGES["private"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
}
TRANSCRIPTION_LEASE_SECONDS = float(os.environ.get("WORKER_LEASE_SECONDS", "120"))
TRANSCRIPTION_RETRY_BACKOFF_SECONDS = float(os.environ.get("WORKER_RETRY_BACKOFF_SECONDS", "30"))
TRANSCRIPTION_MAX_ATTEMPTS = int(os.environ.get("WORKER_MAX_ATTEMPTS", "4"))
