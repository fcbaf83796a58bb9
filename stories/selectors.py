"""Reads the public pages reuse.

Listings, counts and the sitemap read the rule's stored answer (stories/models/public.py) by index and page by keyset,
so their cost does not grow with the archive or the page number; the stories a page shows are asked of the rule
itself, as search does with its hits.
"""

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan, TupleLookupMixin
from django.db.models.functions import Coalesce

from .generations import generations_of
from .models import CollectionPage, Community, Dialogue, PublicCount, PublicStory, PublicStoryTheme, StoryPage, Theme
from .models.pages import public_among
from .models.people import StoryParticipant

RELATED_CANDIDATES = 24
PAGE_SIZE = 20
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class RowGreaterThan(TupleGreaterThan):
    """(a, b) > (x, y) as a row value on SQLite too. Django writes it out there as `a > x OR (a = x AND b > y)`, which
    SQLite reads as a range on `a` alone: among stories published at the same instant (an import), a deep page would
    read every one before its place. SQLite has row values since 3.15 and reads them as one range of the index."""

    def as_sqlite(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class RowLessThan(TupleLessThan):
    """(a, b) < (x, y) as a row value on SQLite too (see RowGreaterThan)."""

    def as_sqlite(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class InvalidCursor(ValueError):
    """A page address that no listing handed out."""


@dataclass(frozen=True)
class Cursor:
    """A place in a listing, newest first: the first-published time and id of the story it is next to."""

    published_at: datetime.datetime
    story_id: int

    FORMAT = re.compile(r"(\d{1,18})\.(\d{1,10})")

    def __str__(self) -> str:
        return f"{(self.published_at - EPOCH) // datetime.timedelta(microseconds=1)}.{self.story_id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        match = cls.FORMAT.fullmatch(text)
        if not match:
            raise InvalidCursor(f"{text[:40]!r} is not a place in this list: follow the list's own links.")
        try:
            published_at = EPOCH + datetime.timedelta(microseconds=int(match[1]))
        except OverflowError as error:
            raise InvalidCursor("That place in the list is out of range: follow the list's own links.") from error
        return cls(published_at=published_at, story_id=int(match[2]))


@dataclass
class StoryList:
    """One page of a listing: its stories, how many the whole listing holds, and where the pages beside it start."""

    stories: list[StoryPage]
    count: int
    newer: str | None = None
    older: str | None = None

    def __iter__(self) -> Iterator[StoryPage]:
        return iter(self.stories)

    def __len__(self) -> int:
        return len(self.stories)

    def __bool__(self) -> bool:
        return bool(self.stories)


def public_count(*, community: Community | None = None, theme: Theme | None = None) -> int:
    """How many stories the public may see, in all or in a community or theme: one row of the stored counts."""
    if theme is not None:
        key = (PublicCount.Subject.THEME, theme.pk)
    elif community is not None:
        key = (PublicCount.Subject.COMMUNITY, community.pk)
    else:
        key = (PublicCount.Subject.ALL, 0)
    stored = PublicCount.objects.filter(subject=key[0], subject_id=key[1]).values_list("stories", flat=True).first()
    return stored or 0


def public_stories_listed(
    *,
    community: Community | None = None,
    theme: Theme | None = None,
    dialogue: Dialogue | None = None,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    prepare: Callable[[QuerySet], QuerySet] = lambda stories: stories.as_cards(),
) -> StoryList:
    """A page of public stories, newest first, from the stored answer's index: the first page, the page older than
    `after`, or the page newer than `before` (cursors a StoryList handed out). Raises InvalidCursor."""
    if dialogue is not None:
        rows = dialogue_rows(dialogue)
    elif theme is not None:
        rows = PublicStoryTheme.objects.filter(theme=theme)
    else:
        rows = PublicStory.objects.listed()
        if community is not None:
            rows = rows.filter(community=community)
    rows = rows.values_list("published_at", "story_id")
    # The place compared as a row, (published_at, story_id) < (…, …): one range of the listing's index, so a page
    # deep in the list, or among stories published at the same instant, costs what the first page costs.
    place = Tuple(F("published_at"), F("story_id"))
    if before:
        cursor = Cursor.parse(before)
        newer_first = rows.filter(RowGreaterThan(place, (cursor.published_at, cursor.story_id)))
        page = list(newer_first.order_by("published_at", "story_id")[: size + 1])
        more_newer = len(page) > size
        page = page[:size][::-1]
        if not page:  # the stories that were newer are gone: start again from the newest
            return public_stories_listed(
                community=community, theme=theme, dialogue=dialogue, size=size, prepare=prepare
            )
        newer = str(Cursor(*page[0])) if more_newer else None
        older = str(Cursor(*page[-1]))
    else:
        older_first = rows
        if after:
            cursor = Cursor.parse(after)
            older_first = rows.filter(RowLessThan(place, (cursor.published_at, cursor.story_id)))
        page = list(older_first.order_by("-published_at", "-story_id")[: size + 1])
        older = str(Cursor(*page[size - 1])) if len(page) > size else None
        page = page[:size]
        newer = str(Cursor(*page[0])) if after and page else None
    return StoryList(
        stories=shown_in_order(prepare(StoryPage.objects.all()), [story_id for _, story_id in page]),
        count=dialogue_rows(dialogue).count() if dialogue else public_count(community=community, theme=theme),
        newer=newer,
        older=older,
    )


def dialogue_rows(dialogue: Dialogue):
    """The stored answer's public rows for a dialogue's stories. The stored answer has no dialogue column: the
    dialogue's own stories (tens, read by the story table's dialogue index) are intersected with it."""
    return PublicStory.objects.listed().filter(story_id__in=StoryPage.objects.filter(dialogue=dialogue).values("pk"))


def shown_in_order(stories: QuerySet, story_ids: list[int]) -> list[StoryPage]:
    """These stories in this order, each asked of the rule itself before it is shown: the stored answer chose them,
    the rule (in its compiled form, stories.models.pages.public_among) has the last word."""
    if not story_ids:
        return []
    found = {story.pk: story for story in stories.filter(pk__in=public_among(story_ids)).order_by()}
    return [found[pk] for pk in story_ids if pk in found]


def related_stories(*, story: StoryPage, limit: int = 4, themes: list[Theme] | None = None) -> list[StoryPage]:
    """Public stories that share a theme or the community with this one, chosen so several generations speak.

    Stories sharing a theme come before those that only share the community; among them, each pick favours a story
    whose tellers add a generation not heard yet. The candidates come from the stored answer; only the ones chosen
    are asked of the rule, in one query (again only if it hides one). `themes` are the story's, when the caller has
    read them. A fixed number of queries, each reading a bounded number of rows.
    """
    # Read the relation as objects, not as database rows: a preview holds its themes in memory, unsaved.
    theme_ids = [theme.pk for theme in (story.themes.all() if themes is None else themes)]

    # The newest few of each theme and of the community, each read from its own index: a bounded number of rows,
    # however many stories share them.
    def newest(rows) -> set[tuple]:
        rows = rows.values_list("published_at", "story_id").exclude(story_id=story.pk)
        return set(rows.order_by("-published_at", "-story_id")[:RELATED_CANDIDATES])

    near_in_theme = set().union(*(newest(PublicStoryTheme.objects.filter(theme_id=pk)) for pk in theme_ids))
    near = near_in_theme | (
        newest(PublicStory.objects.listed().filter(community_id=story.community_id)) if story.community_id else set()
    )
    # In the order each list was read in, newest first, so that a candidate sharing a theme is among the rows read
    # for that theme: its place among them is no lower than its place among all the candidates.
    candidates = [pk for _, pk in sorted(near, reverse=True)][:RELATED_CANDIDATES]
    if not candidates:
        return []
    shared_theme = {pk for _, pk in near_in_theme}
    candidates.sort(key=lambda pk: pk not in shared_theme)  # stable: newest first within each group
    birth_years: dict[int, list[int | None]] = {pk: [] for pk in candidates}
    for pk, birth_year in StoryParticipant.objects.filter(page_id__in=candidates).values_list(
        "page_id", "person__birth_year"
    ):
        birth_years[pk].append(birth_year)
    generations = {pk: {generation.slug for generation in generations_of(years)} for pk, years in birth_years.items()}
    heard = _generations(story)
    while True:
        chosen_ids = _mixing_generations(candidates, generations, heard, limit)
        chosen = shown_in_order(StoryPage.objects.as_cards(), chosen_ids)
        if len(chosen) == len(chosen_ids):
            return chosen
        # The stored answer listed a story the rule now hides: choose again without it.
        hidden = set(chosen_ids) - {shown.pk for shown in chosen}
        candidates = [pk for pk in candidates if pk not in hidden]


def _mixing_generations(candidates: list[int], generations: dict[int, set[str]], heard: set[str], limit: int):
    """Up to `limit` of the candidates (ids, in order of preference), each pick the one that adds the most
    generations not heard yet, the earlier on a tie."""
    heard = set(heard)
    left = list(candidates)
    chosen = []
    while left and len(chosen) < limit:
        best = max(left, key=lambda pk: (len(generations[pk] - heard), -left.index(pk)))
        left.remove(best)
        chosen.append(best)
        heard |= generations[best]
    return chosen


def _generations(story: StoryPage) -> set[str]:
    return {generation.slug for generation in story.generations}


def stored_count(subject: str):
    """The stored count of public stories for each row of a community or theme listing, 0 when there is none."""
    counted = PublicCount.objects.filter(subject=subject, subject_id=OuterRef("pk")).values("stories")[:1]
    return Coalesce(Subquery(counted), 0)


def communities_counted():
    """Every community, by name, with `public_stories`."""
    return Community.objects.annotate(public_stories=stored_count(PublicCount.Subject.COMMUNITY)).order_by("name")


def themes_counted():
    """Every theme, by name, with `public_stories`."""
    return Theme.objects.annotate(public_stories=stored_count(PublicCount.Subject.THEME)).order_by("name")


def collections_counted():
    """The collections the public may open, by title, with `public_stories` (entries whose stories it may see).

    Counted from the stored answer over each collection's own entries: the cost follows the collections' size."""
    listed = Q(entries__story__public_entry__is_public=True)
    return (
        CollectionPage.open_to_public()
        .annotate(public_stories=Count("entries__story", filter=listed, distinct=True))
        .order_by("title")
    )


def dialogues_counted():
    """Every dialogue, newest first, with its community and `public_stories`: its stories the stored answer lists.

    Counted over each dialogue's own stories (by the story table's dialogue index): the cost follows the dialogues'
    size, not the archive's."""
    listed = Q(stories__public_entry__is_public=True)
    return (
        Dialogue.objects.select_related("community")
        .annotate(public_stories=Count("stories", filter=listed, distinct=True))
        .order_by(F("date").desc(nulls_last=True), "title", "pk")
    )
