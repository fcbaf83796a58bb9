"""Faults: an Elasticsearch that cannot be reached, index work that waits for it, and an index built from another
definition. A closed port stands for a wrong ELASTICSEARCH_URL or a cluster that is down, so those tests need no
cluster; the recovery and mapping tests need a live one at ELASTICSEARCH_URL and are skipped otherwise."""

import datetime
import io
import os

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from search.backends import _backend_for, get_search_backend
from search.query import StoryQuery
from search.services import search_index_rebuild, search_index_status
from search.tasks import MAX_ATTEMPTS, refresh_story_index, retry_wait
from stories.factories import public_story
from stories.models import StoryPage, Withdrawal
from stories.services.withdrawal import story_withdraw
from tests.live_cluster import LIVE_CLUSTER, live, live_search_backend

# Nothing listens on the discard port: connections are refused at once.
DOWN = "http://127.0.0.1:9"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def elasticsearch_down(settings):
    settings.ELASTICSEARCH_URL = DOWN
    settings.ELASTICSEARCH_INDEX_PREFIX = f"storyarchive-test-{os.getpid()}-outage"
    _backend_for.cache_clear()
    yield
    _backend_for.cache_clear()


@pytest.fixture
def worker_queue(settings):
    """Index tasks go to the database queue, as in production, instead of running at once."""
    settings.TASKS = DATABASE_TASKS


def queued_refreshes():
    return list(
        DBTaskResult.objects.filter(task_path=refresh_story_index.module_path, status=TaskResultStatus.READY).order_by(
            "enqueued_at"
        )
    )


def run_queued_refreshes(*, as_if_at=None) -> list:
    """What the worker does once their time has come: run each ready refresh once, marking it done."""
    outcomes = []
    for row in queued_refreshes():
        # A refresh queued with no time to wait carries the latest date there is.
        waiting = row.run_after != get_date_max() and row.run_after > timezone.now()
        if waiting and as_if_at is None:
            continue
        DBTaskResult.objects.filter(pk=row.pk).update(status=TaskResultStatus.SUCCESSFUL)
        outcomes.append(refresh_story_index.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"]))
    return outcomes


# A wrong URL or a cluster that is down ------------------------------------------------------------------------


def test_the_search_page_says_search_is_unavailable_with_a_503(client, elasticsearch_down):
    response = client.get("/search/", {"q": "housing"})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Search is unavailable just now" in response.content.decode()


def test_the_search_api_answers_503_with_a_detail_and_retry_after(client, elasticsearch_down):
    for url, params in (("/api/search", {"q": "housing"}), ("/api/search/suggest", {"q": "hous"})):
        response = client.get(url, params)
        assert response.status_code == 503, url
        assert response["Retry-After"] == "60"
        assert response.json()["detail"].startswith("Search is unavailable")


def test_the_openapi_schema_declares_the_503(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/search", "/api/search/suggest"):
        assert "503" in paths[path]["get"]["responses"], path


def test_the_rest_of_the_site_works_and_stories_publish_and_withdraw(client, elasticsearch_down):
    story = public_story(title="Harvest festival")
    assert client.get(story.url).status_code == 200
    assert client.get("/api/stories").status_code == 200
    story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    assert not StoryPage.objects.get(pk=story.pk).live
    assert client.get("/search/", {"q": "harvest"}).status_code == 503


def test_status_says_what_is_wrong(elasticsearch_down):
    out, err = io.StringIO(), io.StringIO()
    call_command("search_index", "status", stdout=out, stderr=err)
    assert "healthy: False" in out.getvalue()
    assert "cannot reach Elasticsearch at http://127.0.0.1:9" in out.getvalue()
    assert "The search backend is not healthy: cannot reach Elasticsearch at http://127.0.0.1:9" in err.getvalue()


def test_status_never_shows_the_password_in_the_url(settings):
    settings.ELASTICSEARCH_URL = "http://archive:s3cret@127.0.0.1:9"
    _backend_for.cache_clear()
    try:
        status = search_index_status()
    finally:
        _backend_for.cache_clear()
    assert status["healthy"] is False
    assert "s3cret" not in str(status)
    assert status["url"] == "http://127.0.0.1:9"


# Index work waits for the cluster -----------------------------------------------------------------------------


def test_retry_waits_double_up_to_ten_minutes():
    waits = [retry_wait(attempt).total_seconds() for attempt in range(1, 11)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]


def test_a_refresh_that_cannot_reach_the_index_is_queued_again_later(
    elasticsearch_down, worker_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        story = public_story(title="Harvest festival")
    assert {row.args_kwargs["args"][0] for row in queued_refreshes()} == {story.pk}
    before = timezone.now()
    assert set(run_queued_refreshes()) == {"retry queued"}
    again = queued_refreshes()
    assert again and all(row.args_kwargs == {"args": [story.pk], "kwargs": {"attempt": 2}} for row in again)
    assert all(row.run_after >= before + datetime.timedelta(seconds=5) for row in again)
    assert search_index_status()["pending_index_work"] == 1
    out = io.StringIO()
    call_command("search_index", "status", stdout=out, stderr=io.StringIO())
    assert "pending index work: 1" in out.getvalue()


def test_a_refresh_stops_after_its_last_attempt(elasticsearch_down, worker_queue, caplog):
    story = public_story(title="Harvest festival")
    DBTaskResult.objects.all().delete()
    assert refresh_story_index.call(story.pk, attempt=MAX_ATTEMPTS) == "gave up"
    assert queued_refreshes() == []
    assert "search_index verify" in caplog.text


# With a live cluster: recovery, and a mapping that moved ----------------------------------------------------------


@pytest.fixture
def live_backend(settings):
    with live_search_backend(settings, "outage") as backend:
        yield backend


def _index_is_down(settings, down: bool):
    settings.ELASTICSEARCH_URL = DOWN if down else LIVE_CLUSTER
    _backend_for.cache_clear()


@pytest.mark.elasticsearch
@live
def test_changes_made_during_an_outage_reach_the_index_when_it_returns(
    settings, live_backend, worker_queue, django_capture_on_commit_callbacks
):
    kept = public_story(title="Harvest festival")
    withdrawn = public_story(title="River crossing")
    unpublished = public_story(title="Garden letters")
    search_index_rebuild()
    DBTaskResult.objects.all().delete()

    _index_is_down(settings, True)
    with django_capture_on_commit_callbacks(execute=True):
        added = public_story(title="Bus to school")
    with django_capture_on_commit_callbacks(execute=True):
        story_withdraw(story=withdrawn, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    with django_capture_on_commit_callbacks(execute=True):
        StoryPage.objects.get(pk=unpublished.pk).unpublish()
    with django_capture_on_commit_callbacks(execute=True):
        corrected = StoryPage.objects.get(pk=kept.pk)
        corrected.title = "Harvest festival, corrected"
        corrected.save_revision().publish()
    assert set(run_queued_refreshes()) == {"retry queued"}
    assert {row.args_kwargs["args"][0] for row in queued_refreshes()} >= {
        added.pk,
        withdrawn.pk,
        unpublished.pk,
        kept.pk,
    }
    assert all(get_date_max() != row.run_after > timezone.now() for row in queued_refreshes())
    # Control: while down, the hidden stories are still in the index.
    _index_is_down(settings, False)
    assert {withdrawn.pk, unpublished.pk} <= get_search_backend().indexed_ids()

    assert set(run_queued_refreshes(as_if_at="later")) <= {"indexed", "removed"}
    backend = get_search_backend()
    assert backend.indexed_ids() == {kept.pk, added.pk}
    assert [hit.story.title for hit in backend.search(StoryQuery(text="corrected")).hits] == [
        "Harvest festival, corrected"
    ]
    assert backend.search(StoryQuery(text="crossing")).total == 0
    assert search_index_status()["pending_index_work"] == 0


@pytest.mark.elasticsearch
@live
def test_status_says_a_rebuild_is_needed_when_the_index_was_built_from_another_definition(live_backend):
    public_story(title="Harvest festival")
    search_index_rebuild()
    status = live_backend.status()
    assert status["rebuild_needed"] is False
    assert status["mapping"].startswith("current")

    live_backend.client.indices.put_mapping(index=live_backend.alias, meta={"definition": "an-older-one"})
    status = live_backend.status()
    assert status["rebuild_needed"] is True
    assert status["mapping"].startswith("rebuild needed")
    err = io.StringIO()
    call_command("search_index", "status", stdout=io.StringIO(), stderr=err)
    assert "needs a rebuild" in err.getvalue()

    search_index_rebuild()
    assert live_backend.status()["rebuild_needed"] is False
