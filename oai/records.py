"""Reads for the OAI-PMH endpoint: records are the stored answer of the visibility rule (PublicStory), page by page.

A row exists for every story that has ever been public; its `changed_at` is the record's datestamp. A page is chosen
from those rows by index, in (changed_at, story) order, and the stories the rows call public are asked of the rule
itself (`visible_to_public()`) before any of their metadata is read: a story the rule hides now is sent as a deleted
record, header only. Nothing here evaluates the rule over the whole archive.
"""

import dataclasses
import datetime

from django.db.models import Min, Q

from stories.addresses import StoryAddresses
from stories.models import (
    CollectionEntry,
    CollectionPage,
    Community,
    PublicStory,
    StoryKind,
    StoryPage,
    StoryParticipant,
    Theme,
)
from stories.models.pages import PARTICIPANT_ORDER

from .protocol import PAGE_SIZE, Position, ProtocolError, Selection

COMMUNITY, THEME, COLLECTION = "community", "theme", "collection"
SET_KINDS = (COMMUNITY, THEME, COLLECTION)


@dataclasses.dataclass
class StoryMetadata:
    """What a record shows of a story the public may see, read as plain values: a page of a hundred records built as
    page objects spent most of its time making them (and their themes, participants and people)."""

    title: str
    summary: str
    recorded_on: datetime.date | None
    kind: str
    language: str
    path: str | None  # the story's address on the site; None if no site holds it
    community_name: str = ""
    community_place: str = ""
    creators: list[str] = dataclasses.field(default_factory=list)  # display names, in the story's order
    subjects: list[str] = dataclasses.field(default_factory=list)  # theme names


@dataclasses.dataclass
class Record:
    """One story's record: deleted unless the public may see the story; `story` holds its metadata when a public
    record's metadata was asked for (ListRecords, GetRecord), None for a header alone."""

    story_id: int
    changed_at: datetime.datetime
    deleted: bool
    story: StoryMetadata | None = None
    set_specs: list[str] = dataclasses.field(default_factory=list)


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
    shown = _public_records([story_id for story_id, _, is_public in found if is_public], with_metadata=with_metadata)
    records = []
    for story_id, changed_at, _ in found:
        records.append(_record(story_id, changed_at, shown))
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
    return _record(story_id, changed_at, _public_records([story_id], with_metadata=True) if is_public else {})


def _record(story_id: int, changed_at: datetime.datetime, shown: dict) -> Record:
    if story_id not in shown:
        return Record(story_id, changed_at, deleted=True)
    metadata, set_specs = shown[story_id]
    return Record(story_id, changed_at, deleted=False, story=metadata, set_specs=set_specs)


def _public_records(story_ids: list[int], *, with_metadata: bool) -> dict[int, tuple[StoryMetadata | None, list[str]]]:
    """The stories among these ids that the rule lets the public see now: each one's metadata (None when only headers
    are asked for) and set specs. Five queries however many stories: the rule, people, themes, collections, sites."""
    if not story_ids:
        return {}
    fields = ["pk", "community__slug"]
    if with_metadata:
        fields += [
            "title",
            "summary",
            "recorded_on",
            "language",
            "url_path",
            "recording_id",
            "recording__video_codec",
            "community__name",
            "community__place",
        ]
    rows = {row["pk"]: row for row in StoryPage.objects.visible_to_public().filter(pk__in=story_ids).values(*fields)}
    if not rows:
        return {}
    themes: dict[int, list[tuple[str, str]]] = {}
    for story_id, name, slug in (
        StoryPage.themes.through.objects.filter(storypage_id__in=rows)
        .order_by("theme__name", "theme_id")
        .values_list("storypage_id", "theme__name", "theme__slug")
    ):
        themes.setdefault(story_id, []).append((name, slug))
    collections: dict[int, list[str]] = {}
    for story_id, slug in (
        CollectionEntry.objects.filter(story_id__in=rows, page__in=CollectionPage.open_to_public())
        .order_by("page__slug")
        .values_list("story_id", "page__slug")
        .distinct()
    ):
        collections.setdefault(story_id, []).append(slug)
    creators: dict[int, list[str]] = {}
    addresses = None
    if with_metadata:
        for story_id, display_name in (
            StoryParticipant.objects.filter(page_id__in=rows)
            .order_by("page_id", *PARTICIPANT_ORDER)
            .values_list("page_id", "person__display_name")
        ):
            creators.setdefault(story_id, []).append(display_name)
        addresses = StoryAddresses()
    found = {}
    for story_id, row in rows.items():
        story_themes = themes.get(story_id, [])
        specs = [set_spec(COMMUNITY, row["community__slug"])] if row["community__slug"] else []
        specs += [set_spec(THEME, slug) for _, slug in story_themes]
        specs += [set_spec(COLLECTION, slug) for slug in collections.get(story_id, [])]
        metadata = None
        if with_metadata:
            metadata = StoryMetadata(
                title=row["title"],
                summary=row["summary"],
                recorded_on=row["recorded_on"],
                kind=StoryKind.of(
                    has_recording=row["recording_id"] is not None, video_codec=row["recording__video_codec"] or ""
                ),
                language=row["language"],
                path=addresses.path(row["url_path"]),
                community_name=row["community__name"] or "",
                community_place=row["community__place"] or "",
                creators=creators.get(story_id, []),
                subjects=[name for name, _ in story_themes],
            )
        found[story_id] = (metadata, specs)
    return found


def earliest_datestamp() -> datetime.datetime | None:
    return PublicStory.objects.aggregate(earliest=Min("changed_at"))["earliest"]
