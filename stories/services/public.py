"""Writing the visibility rule's stored answer (stories/models/public.py): asked of the rule, never worked out here.

`public_stories_record` runs inside the transaction of every change to an input of the rule (stories/receivers.py),
so a story the rule hides leaves every listing in that transaction; `public_stories_rebuild` asks the rule about the
whole archive (after a bulk import); `public_stories_verify` is the hourly reconciler's half for this copy. A story
the answer turns from public to hidden has its pictures given new addresses on commit (stories/services/pictures.py).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from ..models import PublicCount, PublicStory, PublicStoryTheme, StoryPage
from .pictures import pictures_readdress_on_commit

logger = logging.getLogger(__name__)

# Ids asked of the rule at once: well under every database's limit on query parameters.
BATCH = 2000
StoryThemes = StoryPage.themes.through


def public_stories_record(*, story_ids: Iterable[int], edited: bool = True) -> set[int]:
    """Ask the rule about these stories and store its answer; returns the ids it allows.

    `edited`: the stories' own fields may have changed, so a story that stays public gets a new `changed_at` (what a
    harvester reads to fetch its record again). A rebuild or a repair passes False and dates only what flips."""
    story_ids = {int(pk) for pk in story_ids if pk is not None}
    shown: set[int] = set()
    communities: set[int] = set()
    themes: set[int] = set()
    flipped = False
    with transaction.atomic():
        ordered = sorted(story_ids)
        for start in range(0, len(ordered), BATCH):
            change = _record_batch(set(ordered[start : start + BATCH]), edited=edited)
            shown |= change.shown
            communities |= change.communities
            themes |= change.themes
            flipped |= change.flipped
            if change.hidden:
                # The addresses their pictures had while they were public stop leading to them.
                pictures_readdress_on_commit(story_ids=change.hidden)
        if flipped or communities or themes:
            _recount(communities=communities, themes=themes)
    return shown


@dataclass(frozen=True)
class _Change:
    shown: set[int]
    communities: set[int]
    themes: set[int]
    flipped: bool
    # The stories the rule showed and now hides.
    hidden: set[int]


def _record_batch(story_ids: set[int], *, edited: bool) -> _Change:
    """Store the rule's answer for one batch: the ids shown, and whose counts may have changed."""
    now = timezone.now()
    allowed = {
        pk: (published_at or now, community_id)
        for pk, published_at, community_id in StoryPage.objects.visible_to_public()
        .filter(pk__in=story_ids)
        .values_list("pk", "first_published_at", "community_id")
    }
    before = {row.story_id: row for row in PublicStory.objects.select_for_update().filter(story_id__in=story_ids)}
    themes_before = set(PublicStoryTheme.objects.filter(story_id__in=story_ids).values_list("story_id", "theme_id"))
    themes_now = set(StoryThemes.objects.filter(storypage_id__in=allowed).values_list("storypage_id", "theme_id"))

    rows = []
    for pk, (published_at, community_id) in allowed.items():
        row = before.get(pk)
        unchanged = row is not None and row.is_public and row.community_id == community_id
        rows.append(
            PublicStory(
                story_id=pk,
                is_public=True,
                changed_at=row.changed_at if unchanged and not edited else now,
                published_at=published_at,
                community_id=community_id,
            )
        )
    if rows:
        PublicStory.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["story"],
            update_fields=["is_public", "changed_at", "published_at", "community"],
        )
    hidden = [pk for pk, row in before.items() if row.is_public and pk not in allowed]
    if hidden:
        PublicStory.objects.filter(story_id__in=hidden).update(is_public=False, changed_at=now)
    if themes_before != themes_now or rows:
        PublicStoryTheme.objects.filter(story_id__in=story_ids).delete()
        PublicStoryTheme.objects.bulk_create(
            PublicStoryTheme(story_id=pk, theme_id=theme_id, published_at=allowed[pk][0])
            for pk, theme_id in sorted(themes_now)
        )

    flipped = {pk for pk in allowed if pk not in before or not before[pk].is_public} | set(hidden)
    moved = {pk for pk in allowed if pk in before and before[pk].community_id != allowed[pk][1]}
    communities = {before[pk].community_id for pk in (flipped | moved) & before.keys()}
    communities |= {allowed[pk][1] for pk in (flipped | moved) & allowed.keys()}
    return _Change(
        shown=set(allowed),
        communities={pk for pk in communities if pk is not None},
        themes={theme_id for _, theme_id in themes_before ^ themes_now},
        flipped=bool(flipped),
        hidden=set(hidden),
    )


def _recount(*, communities: Iterable[int], themes: Iterable[int], every: bool = False) -> None:
    """Count again, by index, what the stored answer holds for all stories and for these communities and themes."""
    counts = {(PublicCount.Subject.ALL, 0): PublicStory.objects.listed().count()}
    listed = PublicStory.objects.listed()
    if every:
        communities = set(listed.exclude(community=None).values_list("community_id", flat=True).distinct())
        communities |= set(
            PublicCount.objects.filter(subject=PublicCount.Subject.COMMUNITY).values_list("subject_id", flat=True)
        )
        themes = set(PublicStoryTheme.objects.values_list("theme_id", flat=True).distinct())
        themes |= set(
            PublicCount.objects.filter(subject=PublicCount.Subject.THEME).values_list("subject_id", flat=True)
        )
    for community_id in communities:
        counts[(PublicCount.Subject.COMMUNITY, community_id)] = listed.filter(community_id=community_id).count()
    for theme_id in themes:
        counts[(PublicCount.Subject.THEME, theme_id)] = PublicStoryTheme.objects.filter(theme_id=theme_id).count()
    PublicCount.objects.bulk_create(
        [PublicCount(subject=subject, subject_id=pk, stories=n) for (subject, pk), n in counts.items()],
        update_conflicts=True,
        unique_fields=["subject", "subject_id"],
        update_fields=["stories"],
    )


def public_stories_rebuild() -> int:
    """Ask the rule about every story (and every row stored) and store its answer; then refresh the database's
    statistics, so the planner reads these tables by index straight after a bulk import. Returns how many are public.
    """
    story_ids = set(StoryPage.objects.values_list("pk", flat=True))
    story_ids |= set(PublicStory.objects.listed().values_list("story_id", flat=True))
    with transaction.atomic():
        shown = public_stories_record(story_ids=story_ids, edited=False)
        _recount(communities=(), themes=(), every=True)
    refresh_statistics()
    return len(shown)


def refresh_statistics() -> None:
    """Have the database measure every table, as it would after a day of use: the planner reads the listings' tables
    by index straight after a bulk import. Every table, not only the ones just written: a planner that knows some
    tables' sizes and guesses the rest (SQLite takes an unmeasured table for a large one) joins them the wrong way
    round."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The archive's own tables by name: a bare ANALYZE takes in the cluster's shared catalogs too, and waits
            # behind any other database's open transaction.
            tables = connection.introspection.table_names(cursor)
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(table) for table in tables)}")
        else:
            cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            # SQLite's ANALYZE records nothing for an empty table, which the planner then takes for a large one: an
            # empty table of view restrictions, joined to every page, made it read all 100,000 pages. Measured as
            # holding a row, as such a table will at most hold a few.
            cursor.execute(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) SELECT name, NULL, '1' FROM sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT IN (SELECT tbl FROM sqlite_stat1)"
            )
            cursor.execute("ANALYZE sqlite_master")


@dataclass(frozen=True)
class PublicCheck:
    public: int
    shown_but_hidden: int
    hidden_but_allowed: int
    themes_adrift: int

    @property
    def drift(self) -> int:
        return self.shown_but_hidden + self.hidden_but_allowed + self.themes_adrift


def public_stories_verify(*, repair: bool = True) -> PublicCheck:
    """Compare the stored answer with the rule over the whole archive, both ways, and repair what differs.

    A story stored as public that the rule hides means a path that hides stories was not announced: an error. A story
    the rule allows that is stored as hidden is usually time passing (an embargo date or a birthday the rule reads);
    it is shown now, and logged."""
    allowed = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    stored = set(PublicStory.objects.listed().values_list("story_id", flat=True))
    shown_but_hidden = stored - allowed
    hidden_but_allowed = allowed - stored
    pairs_now = set(
        StoryThemes.objects.filter(storypage_id__in=stored & allowed).values_list("storypage_id", "theme_id")
    )
    pairs_stored = set(PublicStoryTheme.objects.values_list("story_id", "theme_id"))
    themes_adrift = {pk for pk, _ in pairs_now ^ pairs_stored}
    if shown_but_hidden:
        logger.error(
            "the stored answer listed %d stories the rule hides: %s",
            len(shown_but_hidden),
            sorted(shown_but_hidden)[:50],
        )
    if hidden_but_allowed:
        logger.info(
            "the rule now allows %d stories not yet listed: %s",
            len(hidden_but_allowed),
            sorted(hidden_but_allowed)[:50],
        )
    if themes_adrift:
        logger.error(
            "the stored themes of %d public stories differ: %s", len(themes_adrift), sorted(themes_adrift)[:50]
        )
    if repair:
        with transaction.atomic():
            public_stories_record(story_ids=shown_but_hidden | hidden_but_allowed | themes_adrift, edited=False)
            _recount(communities=(), themes=(), every=True)
    return PublicCheck(
        public=len(allowed),
        shown_but_hidden=len(shown_but_hidden),
        hidden_but_allowed=len(hidden_but_allowed),
        themes_adrift=len(themes_adrift),
    )
