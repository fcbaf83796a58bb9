"""Thin index tasks: they take a story id and call the service; the worker runs them."""

import datetime
import logging

from django.utils import timezone
from django_tasks import task

from .backends import SearchUnavailable
from .services import search_index_verify, story_index_refresh

logger = logging.getLogger(__name__)

# While the index cannot be reached, a refresh waits 5 s, 10 s, 20 s, ... up to 10 minutes between attempts, for
# about a day in all; after that the hourly `search_index verify` repairs what is left.
RETRY_FIRST_WAIT = datetime.timedelta(seconds=5)
RETRY_LONGEST_WAIT = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 150


def retry_wait(attempt: int) -> datetime.timedelta:
    """How long to wait before attempt `attempt + 1`: doubling from RETRY_FIRST_WAIT, never over RETRY_LONGEST_WAIT."""
    return min(RETRY_FIRST_WAIT * 2 ** min(attempt - 1, 20), RETRY_LONGEST_WAIT)


@task()
def refresh_story_index(story_id: int, attempt: int = 1) -> str:
    try:
        return story_index_refresh(story_id=story_id)
    except SearchUnavailable as error:
        return _retry_later(story_id, attempt, error)


def _retry_later(story_id: int, attempt: int, error: SearchUnavailable) -> str:
    """Queue the refresh again after a wait; the story id stays the first argument, as pending work is counted by it."""
    if attempt >= MAX_ATTEMPTS or not refresh_story_index.get_backend().supports_defer:
        logger.error(
            "story %s: the search index could not be refreshed (attempt %d: %s); the hourly `search_index verify` "
            "repairs it",
            story_id,
            attempt,
            error,
        )
        return "gave up"
    wait = retry_wait(attempt)
    refresh_story_index.using(run_after=timezone.now() + wait).enqueue(story_id, attempt=attempt + 1)
    logger.warning("story %s: %s; refresh %d queued again in %s", story_id, error, attempt + 1, wait)
    return "retry queued"


@task()
def verify_search_index() -> int:
    """The reconciler, on a schedule, for both copies of the rule's answer (the stored one the listings read, then the
    index): returns how many stories were out of place."""
    from stories.services.public import public_stories_verify

    return public_stories_verify(repair=True).drift + search_index_verify(repair=True).drift
