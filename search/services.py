"""Writes to the story index. Tasks and the search_index command call these; nothing else writes the index."""

import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from stories.models import StoryPage
from stories.services.public import refresh_statistics

from .backends import get_search_backend
from .models import IndexCheck
from .selectors import indexed_stories, indexed_story, public_stories_to_index

logger = logging.getLogger(__name__)


def story_index_refresh(*, story_id: int) -> str:
    """Index the story if the public may see it, otherwise take it out; return "indexed" or "removed"."""
    started = time.monotonic()
    backend = get_search_backend()
    story = indexed_story(story_id)
    if story is None:
        backend.remove_story(story_id)
        outcome = "removed"
    else:
        backend.index_story(story)
        outcome = "indexed"
    logger.info("story %s %s in %.0f ms", story_id, outcome, (time.monotonic() - started) * 1000)
    return outcome


def search_index_rebuild(*, progress=None) -> int:
    """Replace the whole index with every story the public may see; `progress` wraps the iterable (tqdm). The
    database measures the rule's tables first, as a rebuild often follows a bulk load: reading every story through
    the rule, and the searches that follow, are then planned on the tables' real sizes."""
    if not connection.in_atomic_block:
        # Not inside a caller's transaction: ANALYZE would hold its locks until that commits.
        refresh_statistics()
    records = indexed_stories()
    if progress is not None:
        records = progress(records, total=public_stories_to_index().count())
    return get_search_backend().rebuild(records)


def story_index_forget(*, story_ids) -> int:
    """Take stories the rule now hides out of the index, in the caller's transaction; returns how many were in it."""
    backend = get_search_backend()
    present = backend.indexed_ids(among=story_ids)
    for story_id in sorted(present):
        backend.remove_story(story_id)
    if present:
        logger.info("stories %s hidden: taken out of the index", sorted(present))
    return len(present)


def _refresh_pending() -> set[int]:
    """Stories whose refresh is queued and not yet run: missing from the index for now, as showing may wait."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import refresh_story_index

    queued = DBTaskResult.objects.filter(
        task_path=refresh_story_index.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).values_list("args_kwargs", flat=True)
    return {int(args["args"][0]) for args in queued if args.get("args")}


def search_index_status() -> dict:
    """The backend's own report (health, counts, whether its index needs a rebuild) and the index work queued."""
    status = get_search_backend().status()
    status["pending_index_work"] = len(_refresh_pending())
    return status


def search_index_verify(*, repair: bool = True) -> IndexCheck:
    """Compare the index with the visibility rule both ways, repair what differs, and record the result.

    A story in the index that the rule hides, or a public story missing with no refresh queued, means a path that
    changes visibility was not announced: it is logged as an error."""
    backend = get_search_backend()
    public = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    indexed = backend.indexed_ids()
    hidden_but_indexed = indexed - public
    missing = public - indexed
    pending = missing & _refresh_pending()
    unannounced = missing - pending
    if hidden_but_indexed:
        logger.error(
            "the search index held %d stories the public may not see: %s",
            len(hidden_but_indexed),
            sorted(hidden_but_indexed)[:50],
        )
    if unannounced:
        logger.error(
            "the search index lacked %d public stories with no refresh queued: %s",
            len(unannounced),
            sorted(unannounced)[:50],
        )
    if repair:
        with transaction.atomic():
            for story_id in sorted(hidden_but_indexed):
                backend.remove_story(story_id)
        for story_id in sorted(unannounced):
            story_index_refresh(story_id=story_id)
    return IndexCheck.objects.create(
        backend=backend.name,
        checked_at=timezone.now(),
        indexed=len(indexed),
        public=len(public),
        hidden_but_indexed=len(hidden_but_indexed),
        missing=len(unannounced),
        pending=len(pending),
        repaired=repair and bool(hidden_but_indexed or unannounced),
    )
