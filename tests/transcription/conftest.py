import pytest


@pytest.fixture
def database_tasks(settings):
    """Jobs go into the database queue, where real db_worker processes take them, instead of running at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# A public story told with JFK's clip, its access copy made: shared by the redaction tests.
from .test_redaction_sound import told  # noqa: E402, F401
