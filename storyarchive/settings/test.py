import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES}  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

# Each test run writes files under its own temporary folder.
_TEST_VAR = Path(tempfile.mkdtemp(prefix="storyarchive-test-"))
MEDIA_ROOT = _TEST_VAR / "media"
PRIVATE_MEDIA_ROOT = _TEST_VAR / "private"
STORAGES["private"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None, "allow_overwrite": True},
}

# Tasks run at once inside the test unless a test asks for the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Listening figures are handed over when a test flushes the tally or a batch fills, never by a timer thread behind
# a test's back or as the test process exits.
AUDIENCE_FLUSH_SECONDS = 0

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Wagtail's own (admin) search stays on the database in tests, so a run with ELASTICSEARCH_URL set writes no test
# pages into a node's admin indices; the admin search tests switch to Elasticsearch under a prefix of their own.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
