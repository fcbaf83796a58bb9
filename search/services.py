"""Writes to the story index. Tasks and the search_index command call these; nothing else writes the index."""

import logging
import time

from .backends import get_search_backend
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
    """Replace the whole index with every story the public may see; `progress` wraps the iterable (tqdm)."""
    records = indexed_stories()
    if progress is not None:
        records = progress(records, total=public_stories_to_index().count())
    return get_search_backend().rebuild(records)
