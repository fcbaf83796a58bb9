"""Reads for the OAI-PMH endpoint: records are the stored answer of the visibility rule (PublicStory), page by page.

A row exists for every story that has ever been public; its `changed_at` is the record's datestamp. A page is chosen
from those rows by index, in (changed_at, story) order, and the stories the rows call public are asked of the rule
itself (`visible_to_public()`) before any of their metadata is read: a story the rule hides now is sent as a deleted
record, header only. Nothing here evaluates the rule over the whole archive.
"""

import dataclasses
import datetime

from django.db.models import Min, Prefetch, Q

from stories.models import CollectionEntry, CollectionPage, Community, PublicStory, StoryPage, Theme
from stories.models.pages import participants_as_listed

from .protocol import PAGE_SIZE, Position, ProtocolError, Selection

COMMUNITY, THEME, COLLECTION = "community", "theme", "collection"
SET_KINDS = (COMMUNITY, THEME, COLLECTION)


@dataclasses.dataclass
class Record:
    """One story's record: `story` (with its metadata read) only when the public may see it, else deleted."""

    story_id: int
    changed_at: datetime.datetime
    story: StoryPage | None = None
    set_specs: list[str] = dataclasses.field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.story is None


@dataclasses.dataclass
class RecordPage:
    records: list[Record]
    next_position: Position | None  # None on the last page


@dataclasses.dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str


def set_spec(kind: str, slug: str) -> str:
    return f"{kind}:{slug}"


def all_sets() -> list[OaiSet]:
    """Every community, every theme and every collection the public may open, as sets."""
    sets = [OaiSet(set_spec(COMMUNITY, c.slug), f"Community: {c.name}") for c in Community.objects.order_by("name")]
    sets += [OaiSet(set_spec(THEME, t.slug), f"Theme: {t.name}") for t in Theme.objects.order_by("name")]
    sets += [
        OaiSet(set_spec(COLLECTION, c.slug), f"Collection: {c.title}")
        for c in CollectionPage.open_to_public().order_by("title").only("slug", "title")
    ]
    return sets


def _rows_in_set(rows, spec: str):
    """Rows narrowed to a set; ProtocolError(noRecordsMatch) when no such set exists."""
    kind, _, slug = spec.partition(":")
    if kind == COMMUNITY:
        community_id = Community.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if community_id is not None:
            return rows.filter(community_id=community_id)
    elif kind == THEME:
        theme_id = Theme.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if theme_id is not None:
            story_ids = StoryPage.themes.through.objects.filter(theme_id=theme_id).values("storypage_id")
            return rows.filter(story_id__in=story_ids)
    elif kind == COLLECTION:
        collection = CollectionPage.open_to_public().filter(slug=slug).values_list("pk", flat=True).first()
        if collection is not None:
            return rows.filter(story_id__in=CollectionEntry.objects.filter(page_id=collection).values("story_id"))
    raise ProtocolError("noRecordsMatch", f"There is no set {spec!r}.")


def record_page(selection: Selection, position: Position | None, *, with_metadata: bool) -> RecordPage:
    """The next page of at most PAGE_SIZE records after `position`; ProtocolError(noRecordsMatch) if there are none."""
    rows = PublicStory.objects.all()
    if selection.set_spec:
        rows = _rows_in_set(rows, selection.set_spec)
    if selection.from_time:
        rows = rows.filter(changed_at__gte=selection.from_time)
    if selection.until_before:
        rows = rows.filter(changed_at__lt=selection.until_before)
    if position is not None:
        # The first condition alone bounds the index range, so a late page starts where the last one stopped.
        rows = rows.filter(changed_at__gte=position.changed_at).filter(
            Q(changed_at__gt=position.changed_at) | Q(story_id__gt=position.story_id)
        )
    found = list(
        rows.order_by("changed_at", "story_id").values_list("story_id", "changed_at", "is_public")[: PAGE_SIZE + 1]
    )
    if not found:
        if position is None:
            raise ProtocolError("noRecordsMatch", "No records match this request.")
        return RecordPage([], None)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    stories = _public_stories([story_id for story_id, _, is_public in found if is_public], with_metadata=with_metadata)
    records = []
    for story_id, changed_at, _ in found:
        story = stories.get(story_id)
        records.append(Record(story_id, changed_at, story, _set_specs(story) if story else []))
    next_position = None
    if more:
        last_id, last_changed, _ = found[-1]
        cursor = (position.cursor if position else 0) + len(found)
        next_position = Position(changed_at=last_changed, story_id=last_id, cursor=cursor)
    return RecordPage(records, next_position)


def single_record(story_id: int) -> Record | None:
    """One story's record, or None when the story has never been public (the archive never speaks of it)."""
    row = PublicStory.objects.filter(story_id=story_id).values_list("changed_at", "is_public").first()
    if row is None:
        return None
    changed_at, is_public = row
    story = _public_stories([story_id], with_metadata=True).get(story_id) if is_public else None
    return Record(story_id, changed_at, story, _set_specs(story) if story else [])


def _public_stories(story_ids: list[int], *, with_metadata: bool) -> dict[int, StoryPage]:
    """The stories among these ids that the rule lets the public see now, with what their records show."""
    if not story_ids:
        return {}
    stories = StoryPage.objects.visible_to_public().filter(pk__in=story_ids).select_related("community")
    themes = Prefetch("themes", queryset=Theme.objects.order_by("name"))
    if with_metadata:
        stories = stories.select_related("recording").prefetch_related(
            themes, Prefetch("participants", queryset=participants_as_listed())
        )
    else:
        stories = stories.only("pk", "community__slug").prefetch_related(themes)
    found = {story.pk: story for story in stories}
    collections = (
        CollectionEntry.objects.filter(story_id__in=found, page__in=CollectionPage.open_to_public())
        .order_by("page__slug")
        .values_list("story_id", "page__slug")
        .distinct()
    )
    for story in found.values():
        story.oai_collection_slugs = []
    for story_id, slug in collections:
        found[story_id].oai_collection_slugs.append(slug)
    return found


def _set_specs(story: StoryPage) -> list[str]:
    specs = [set_spec(COMMUNITY, story.community.slug)] if story.community_id else []
    specs += [set_spec(THEME, theme.slug) for theme in story.themes.all()]
    specs += [set_spec(COLLECTION, slug) for slug in story.oai_collection_slugs]
    return specs


def earliest_datestamp() -> datetime.datetime | None:
    return PublicStory.objects.aggregate(earliest=Min("changed_at"))["earliest"]
