import shutil
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config):
    """On SQLite the test database is a file, not memory, set before any test creates it.

    Real worker processes must reach it, and each live-server thread needs a connection of its own: with the
    in-memory default every thread shares one, and a story page's two requests at once (the recording and its
    captions) can stall each other inside SQLite. In shared memory where there is some, since migrating onto a disk
    file waits on every sync.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3" or database.get("TEST", {}).get("NAME"):
        return
    folder = Path(tempfile.mkdtemp(prefix="storyarchive-db-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(autouse=True)
def _database_for_every_test(db):
    """Every test in this project touches pages or settings; give each one the database, and empty caches: ids come
    again after a rollback, and a key one test left (a rate limit, a stale story already queued) must not meet the
    next."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    _seed_again_after_a_flush()


def _seed_again_after_a_flush():
    """What migrations seed (Wagtail's roots, home, story index, themes, review workflow), made again when a
    transactional test before this one flushed the database: pytest-django runs those last, in any order."""
    from importlib import import_module

    from django.apps import apps
    from wagtail.models import Collection, Locale, Page

    from stories.models import HomePage
    from stories.roles import ensure_facilitators_group

    if HomePage.objects.exists():
        return
    Locale.objects.get_or_create(language_code="en")
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not Page.objects.filter(depth=1).exists():
        Page.add_root(instance=Page(title="Root", slug="root", live=True))
    import_module("stories.migrations.0002_seed_themes_and_pages").seed(apps, None)
    import_module("stories.migrations.0004_facilitator_review_workflow").create_workflow(apps, None)
    import_module("stories.migrations.0008_content_notes").seed(apps, None)
    ensure_facilitators_group()


@pytest.fixture
def facilitator(django_user_model):
    """A facilitator who works in every community, those made during the test too, as the upgrade left every
    facilitator; tests/stories/test_facilitator_communities.py is about facilitators of fewer."""
    from django.db.models.signals import post_save

    from stories.models import Community
    from stories.roles import FACILITATORS, ensure_facilitators_group

    ensure_facilitators_group()
    user = django_user_model.objects.create_user("facilitator", "facilitator@example.org", "a-long-passphrase")
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=FACILITATORS))
    user.facilitated_communities.add(*Community.objects.all())

    def works_in_the_new_community(sender, instance, created, **kwargs):
        if created:
            instance.facilitators.add(user)

    post_save.connect(works_in_the_new_community, sender=Community, weak=False, dispatch_uid="tests.facilitator")
    yield user
    post_save.disconnect(sender=Community, dispatch_uid="tests.facilitator")
