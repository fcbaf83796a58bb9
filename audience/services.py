"""Writing the figures: counts added in one upsert per table, a withdrawn story's figures deleted, old searches pruned."""

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from stories.models import StoryPage

from .beacon import stretches_in
from .models import StoryListeningDay, StoryStretchListens, ZeroResultSearch

logger = logging.getLogger(__name__)

# How long a search that found nothing is kept, in days.
ZERO_RESULT_SEARCH_DAYS = 90


def _upsert_adding(model, *, keys: list[str], counts: list[str], rows: list[list]) -> None:
    """INSERT the rows; where a row with the same keys exists, add the counts to it (SQLite and PostgreSQL alike)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [*keys, *counts]
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    adding = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counts)
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(quote(key) for key in keys)}) DO UPDATE SET {adding}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@transaction.atomic
def figures_record(*, listening: list[list], stretches: list[list], searches: list[list]) -> None:
    """Add a batch of counts: listening as [story id, ISO day, plays, stretches heard], stretches as [story id,
    stretch, listens], searches as [text, ISO day, searches]. Only stories the visibility rule allows now, with a
    recording, are counted: the beacon took the reports on its stored answer, which may be a moment behind."""
    story_ids = {row[0] for row in listening} | {row[0] for row in stretches}
    # Locked, so a withdrawal (which locks its story) either comes before and is seen here, or waits for this write
    # and deletes what it added.
    locked = list(
        StoryPage.objects.select_for_update()
        .filter(pk__in=story_ids, withdrawn_at__isnull=True)
        .values_list("pk", flat=True)
    )
    # The rule itself, once for the batch: a story hidden since its reports were taken counts nothing.
    lengths = dict(
        StoryPage.objects.visible_to_public()
        .filter(pk__in=locked, recording__isnull=False)
        .values_list("pk", "recording__duration_seconds")
    )
    _upsert_adding(
        StoryListeningDay,
        keys=["story_id", "day"],
        counts=["plays", "stretches_heard"],
        rows=[row for row in listening if row[0] in lengths],
    )
    _upsert_adding(
        StoryStretchListens,
        keys=["story_id", "stretch"],
        counts=["listens"],
        rows=[row for row in stretches if row[0] in lengths and row[1] < stretches_in(lengths[row[0]])],
    )
    _upsert_adding(ZeroResultSearch, keys=["text", "day"], counts=["searches"], rows=searches)


def story_figures_delete(*, story_id: int) -> int:
    """Delete every listening figure of a story (it was withdrawn); returns how many rows went."""
    from . import tally

    tally.forget_story(story_id)
    deleted, _ = StoryListeningDay.objects.filter(story_id=story_id).delete()
    more, _ = StoryStretchListens.objects.filter(story_id=story_id).delete()
    return deleted + more


def zero_result_searches_prune(*, today: datetime.date | None = None) -> int:
    """Delete the searches that found nothing more than 90 days ago; returns how many rows went."""
    today = today or timezone.localdate()
    oldest_kept = today - datetime.timedelta(days=ZERO_RESULT_SEARCH_DAYS - 1)
    deleted, _ = ZeroResultSearch.objects.filter(day__lt=oldest_kept).delete()
    if deleted:
        logger.info("pruned %d searches that found nothing before %s", deleted, oldest_kept)
    return deleted
