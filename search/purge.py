"""Withdrawal forgets: a withdrawn story's words leave the database's storage, not only its rows.

FTS5 deletes lazily: a deleted row's tokens stay in the index's segments until they are merged. Once the index has
let go of a withdrawn story, every FTS5 table in the database (the story search's and the admin's) is merged into one
segment, so the tokens are gone; `secure_delete`, set on every SQLite connection (settings), overwrites the pages that
frees; and the write-ahead log is truncated so no old copy of a page lingers there. On PostgreSQL the deleted rows
are gone with VACUUM's next pass (autovacuum runs it).
"""

import logging
import re

from django.db import DatabaseError, connection, transaction
from django.dispatch import receiver

from stories.signals import story_withdrawn

from .backends import get_search_backend

logger = logging.getLogger(__name__)

FTS5_TABLE = re.compile(r"\busing\s+fts5\s*\(", re.IGNORECASE)


def full_text_tables() -> list[str]:
    """The FTS5 tables in the database: the story search's and the one the admin's search uses."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
        # fts5vocab tables are views of an FTS5 table's terms; they hold nothing of their own.
        return sorted(name for name, sql in cursor.fetchall() if FTS5_TABLE.search(sql))


def full_text_storage_purge() -> None:
    """Merge every FTS5 table so deleted rows' words leave its segments, then truncate the write-ahead log."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table in full_text_tables():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"INSERT INTO {quoted}({quoted}) VALUES ('optimize')")  # noqa: S608
    # A checkpoint cannot run inside a transaction: it runs once the caller's commits (at once outside of one).
    transaction.on_commit(_truncate_write_ahead_log)


def _truncate_write_ahead_log() -> None:
    # Old versions of the pages stay in the log until it is reset; TRUNCATE empties the file. A reader holding an
    # old snapshot makes it busy: the frames are then overwritten by the next checkpoint.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal" or connection.connection.in_transaction:
            return
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _, _ = cursor.fetchone()
    if busy:
        logger.warning("the write-ahead log was busy and not truncated after a withdrawal")


@receiver(story_withdrawn, dispatch_uid="search-withdrawn-purge")
def story_withdrawn_purge(sender, story_id, **kwargs):
    """The story leaves the index first (whatever else removes it, it must be gone before the merge), then its words
    leave the storage."""
    try:
        get_search_backend().remove_story(story_id)
    except DatabaseError:
        raise
    except Exception:
        # An external index that cannot be reached does not stop the database forgetting; its refresh is queued.
        logger.exception("the search index could not remove withdrawn story %s now", story_id)
    full_text_storage_purge()
    logger.info("story %s withdrawn: full-text storage merged", story_id)
