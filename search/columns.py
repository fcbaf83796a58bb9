"""The index's filter, facet and sort columns, held in memory as arrays.

Counting five facets over 100,000 matching stories takes milliseconds with arrays, against hundreds of milliseconds
of GROUP BY in SQLite. Each process keeps one copy and checks it against the index with one small query per search:

- every write to the index sets a new random `IndexState.token` and logs the stories it touched as `IndexChange`
  rows carrying that token, in the same transaction;
- a copy whose token is no longer current reads the changes logged after its own and reloads just those stories;
  when its own change is gone (pruned, rolled back, or a rebuild cleared the log) it loads everything again.

A random token rather than a counter: after a rolled-back write the old token comes back together with the old rows,
so a copy can never be paired with rows it does not describe.
"""

import datetime
import functools
import threading
import uuid
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from .models import IndexChange, IndexState, StoryDocument, StoryFacetValue

MULTI_VALUED = ("theme", "generation")
SINGLE_VALUED = ("community", "language", "kind")
# Past this many changed stories a full load is quicker than patching.
MAX_PATCHED_STORIES = 2_000
KEPT_CHANGES = 10_000
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_DOCUMENT_FIELDS = (
    "story_id",
    "community",
    "community_name",
    "language",
    "kind",
    "recorded_on",
    "published_at",
    "generation_count",
    "duration_seconds",
)


@dataclass(frozen=True)
class Columns:
    """One row per indexed story, in story id order."""

    token: str
    change_id: int  # the IndexChange row that set `token`; 0 when there is none
    ids: np.ndarray  # int64, ascending
    codes: dict[str, np.ndarray]  # single-valued facet -> int32 code per row; -1 when the story has none
    members: dict[str, np.ndarray]  # multi-valued facet -> bool matrix, rows x values
    values: dict[str, list[str]]  # facet -> the value behind each code or matrix column
    labels: dict[str, dict[str, str]]  # facet -> value -> label, as indexed
    recorded: np.ndarray  # int32 proleptic ordinal of recorded_on; 0 when unknown
    published: np.ndarray  # float64 seconds since 1970; 0 when unknown
    generation_count: np.ndarray  # int16
    lengths: np.ndarray  # int32: the story's words as ranking counts them (see _indexed_lengths)
    durations: np.ndarray  # float64 seconds of recording; 0 for a written story or an unmeasured file

    # The two orders are worked out on first use: sorting every row costs more than the rest of a catch-up, and a
    # search by relevance never needs them.
    @functools.cached_property
    def newest_rank(self) -> np.ndarray:
        """int64: each row's place in newest-first order. Recorded date, latest first, unknown dates last; then the
        latest published; then the highest id."""
        unknown = self.recorded == 0
        return _ranks(np.lexsort((-self.ids, -self.published, -self.recorded.astype(np.int64), unknown)))

    @functools.cached_property
    def oldest_rank(self) -> np.ndarray:
        """int64: each row's place in oldest-first order; unknown dates still last."""
        unknown = self.recorded == 0
        return _ranks(np.lexsort((self.ids, self.published, self.recorded, unknown)))

    def __len__(self):
        return len(self.ids)

    def rows_of(self, story_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of these stories, and which of the ids have one: an id the copy does not hold (indexed since
        it was loaded) is left out."""
        return _rows_of(self.ids, story_ids)

    def value_mask(self, facet: str, rows: np.ndarray, selected) -> np.ndarray:
        """Which rows count under any of the selected values of a facet."""
        known = {value: code for code, value in enumerate(self.values[facet])}
        codes = [known[value] for value in selected if value in known]
        if facet in MULTI_VALUED:
            if not codes:
                return np.zeros(len(rows), dtype=bool)
            return self.members[facet][np.ix_(rows, codes)].any(axis=1)
        return np.isin(self.codes[facet][rows], codes)

    def counts(self, facet: str, rows: np.ndarray) -> dict[str, int]:
        """How many of these rows count under each value of a facet; values with none are left out."""
        if facet in MULTI_VALUED:
            totals = self.members[facet][rows].sum(axis=0, dtype=np.int64)
        else:
            codes = self.codes[facet][rows]
            totals = np.bincount(codes[codes >= 0], minlength=len(self.values[facet]))
        return {self.values[facet][code]: int(n) for code, n in enumerate(totals) if n}


def _rows_of(ids: np.ndarray, story_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ascending `ids` that hold these stories, and which of the stories have one."""
    if not len(ids) or not len(story_ids):
        return np.empty(0, dtype=np.int64), np.zeros(len(story_ids), dtype=bool)
    positions = np.minimum(np.searchsorted(ids, story_ids), len(ids) - 1)
    held = ids[positions] == story_ids
    return positions[held], held


_lock = threading.Lock()
_loaded: Columns | None = None


def index_changed(story_ids=None) -> None:
    """Called inside every transaction that writes to the index, with the stories it wrote (None: all of them)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        # The state row first: its lock orders concurrent writers, so change ids follow commit order.
        IndexState.objects.update_or_create(pk=IndexState.SINGLETON, defaults={"token": token})
        if story_ids is None:
            IndexChange.objects.all().delete()
            IndexChange.objects.create(token=token, story_id=None)
            return
        created = IndexChange.objects.bulk_create([IndexChange(token=token, story_id=pk) for pk in story_ids])
        newest = max((change.pk for change in created if change.pk), default=None)
        if newest and newest > KEPT_CHANGES:
            IndexChange.objects.filter(pk__lte=newest - KEPT_CHANGES).delete()


def current_token() -> str:
    return IndexState.objects.filter(pk=IndexState.SINGLETON).values_list("token", flat=True).first() or ""


def columns() -> Columns:
    """This process's copy of the columns, brought up to date with the index first when it has changed."""
    global _loaded
    token = current_token()
    loaded = _loaded
    if loaded is not None and loaded.token == token:
        return loaded
    with _lock:
        if _loaded is None or _loaded.token != token:
            _loaded = _caught_up(_loaded) if _loaded is not None else None
            if _loaded is None:
                _loaded = load()
        return _loaded


def load() -> Columns:
    """Every indexed story. The change log is read before the rows: a write that lands while they load logs a
    newer change, and the next search patches that story in again."""
    token, change_id = _latest_change()
    if connection.vendor == "postgresql":
        return _load_postgres(token, change_id)
    documents = list(StoryDocument.objects.order_by("pk").values_list(*_DOCUMENT_FIELDS))
    tags = StoryFacetValue.objects.values_list("document_id", "facet", "value", "label").iterator(chunk_size=10_000)
    return _build(token, change_id, documents, tags, _indexed_lengths(None), base=None)


# One string per column, made inside PostgreSQL from the covering index (migration 0007) rather than the table:
# a Python row per story costs several times the reading, and the table's rows carry the stories' text.
_POSTGRES_COLUMNS = """
SELECT count(*), string_agg(story_id::text, ','), string_agg(recorded::text, ','), string_agg(published::text, ','),
    string_agg(generation_count::text, ','), string_agg(indexed_length::text, ','), string_agg(duration::text, ','),
    string_agg(community, %(unit)s),
    string_agg(language, %(unit)s), string_agg(kind, %(unit)s), string_agg(community_name, %(unit)s)
FROM (
    SELECT story_id, coalesce(recorded_on - DATE '0001-01-01' + 1, 0) AS recorded,
        coalesce(extract(epoch FROM published_at), 0) AS published, generation_count, indexed_length,
        coalesce(duration_seconds, 0) AS duration, community,
        language, kind, community_name
    FROM search_storydocument ORDER BY story_id
) AS stories
"""
# Between the values of a text column: no slug, language code or name holds it.
_UNIT = "\x1f"


def _load_postgres(token: str, change_id: int) -> Columns:
    """Every indexed story, read a column at a time."""
    with connection.cursor() as cursor:
        cursor.execute(_POSTGRES_COLUMNS, {"unit": _UNIT})
        count, ids, recorded, published, generation_count, lengths, durations, *single_valued, names = cursor.fetchone()
        cursor.execute(
            "SELECT facet, value, label, string_agg(document_id::text, ',') FROM search_storyfacetvalue "
            "GROUP BY facet, value, label ORDER BY facet, value"
        )
        tags = cursor.fetchall()

    def numbers(joined, dtype):
        return np.fromstring(joined, dtype=dtype, sep=",") if count else np.empty(0, dtype=dtype)

    ids = numbers(ids, np.int64)
    values = {facet: [] for facet in (*SINGLE_VALUED, *MULTI_VALUED)}
    codes = {}
    for facet, joined in zip(SINGLE_VALUED, single_valued, strict=True):
        column = joined.split(_UNIT) if count else []
        found = sorted(set(column) - {""})
        values[facet] = found
        code_of = {value: code for code, value in enumerate(found)} | {"": -1}
        codes[facet] = np.fromiter((code_of[value] for value in column), dtype=np.int32, count=count)
    communities = single_valued[0].split(_UNIT) if count else []
    named = dict(zip(communities, names.split(_UNIT), strict=True)) if count else {}
    labels = {
        "community": {slug: name for slug, name in named.items() if slug},
        **{facet: {} for facet in MULTI_VALUED},
    }
    members = {}
    for facet in MULTI_VALUED:
        found = [(value, label, holders) for tag_facet, value, label, holders in tags if tag_facet == facet]
        values[facet] = list(dict.fromkeys(value for value, _label, _holders in found))
        matrix = np.zeros((count, len(values[facet])), dtype=bool)
        for value, label, holders in found:
            labels[facet][value] = label
            rows, _held = _rows_of(ids, np.fromstring(holders, dtype=np.int64, sep=","))
            matrix[rows, values[facet].index(value)] = True
        members[facet] = matrix
    return Columns(
        token=token,
        change_id=change_id,
        ids=ids,
        codes=codes,
        members=members,
        values=values,
        labels=labels,
        recorded=numbers(recorded, np.int32),
        published=numbers(published, np.float64),
        generation_count=numbers(generation_count, np.int16),
        lengths=numbers(lengths, np.int32),
        durations=numbers(durations, np.float64),
    )


def _latest_change() -> tuple[str, int]:
    latest = IndexChange.objects.order_by("-pk").values_list("token", "pk").first()
    return latest if latest else (current_token(), 0)


def _caught_up(copy: Columns) -> Columns | None:
    """The copy with the stories changed since it was made read again, or None when only a full load will do."""
    if not copy.change_id or not IndexChange.objects.filter(pk=copy.change_id, token=copy.token).exists():
        return None
    changes = list(
        IndexChange.objects.filter(pk__gt=copy.change_id).order_by("pk").values_list("pk", "token", "story_id")
    )
    if not changes:
        return None
    story_ids = {story_id for _pk, _token, story_id in changes}
    if None in story_ids or len(story_ids) > MAX_PATCHED_STORIES:
        return None
    last_id, last_token, _ = changes[-1]
    documents = list(StoryDocument.objects.filter(pk__in=story_ids).order_by("pk").values_list(*_DOCUMENT_FIELDS))
    tags = StoryFacetValue.objects.filter(document_id__in=story_ids).values_list(
        "document_id", "facet", "value", "label"
    )
    kept = ~np.isin(copy.ids, np.fromiter(story_ids, dtype=np.int64, count=len(story_ids)))
    return _build(last_token, last_id, documents, tags, _indexed_lengths(story_ids), base=(copy, kept))


def _indexed_lengths(story_ids) -> dict[int, int]:
    """How many words each story has in the full-text index (all of them, or these), as ranking counts them: on
    SQLite as FTS5 counts them for bm25 (its docsize table holds one varint per column for every row), on PostgreSQL
    its last word's position in its tsvector (stop words count), stored beside it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if story_ids is None:
                cursor.execute("SELECT story_id, indexed_length FROM search_storydocument")
            else:
                cursor.execute(
                    "SELECT story_id, indexed_length FROM search_storydocument WHERE story_id = ANY(%s)",
                    [list(story_ids)],
                )
            return dict(cursor.fetchall())
    sql = "SELECT id, sz FROM search_story_fts_docsize"
    with connection.cursor() as cursor:
        if story_ids is None:
            cursor.execute(sql)
        else:
            ids = list(story_ids)
            cursor.execute(f"{sql} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)
        return {story_id: sum(_varints(bytes(sizes))) for story_id, sizes in cursor.fetchall()}


def _varints(data: bytes):
    """SQLite's variable-length integers: seven bits a byte, most significant first, high bit set on all but the last."""
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            yield value
            value = 0


def _build(token, change_id, documents, tags, lengths_by_id, *, base) -> Columns:
    """Columns from document rows and facet rows; with `base`, those rows join the base's kept rows."""
    # `is not None`, never truth: a copy of an emptied index has no rows, so it is falsy, and its values still
    # name the columns of its members.
    previous, kept = base if base is not None else (None, None)
    values = {
        facet: list(previous.values[facet]) if previous is not None else [] for facet in (*SINGLE_VALUED, *MULTI_VALUED)
    }
    labels = {
        facet: dict(previous.labels.get(facet, {})) if previous is not None else {}
        for facet in ("community", *MULTI_VALUED)
    }
    code_of = {facet: {value: code for code, value in enumerate(values[facet])} for facet in values}

    def code(facet, value):
        if not value:
            return -1
        if value not in code_of[facet]:
            code_of[facet][value] = len(values[facet])
            values[facet].append(value)
        return code_of[facet][value]

    count = len(documents)
    story, community, community_name, recorded_on, published_at, generations, duration = (
        _DOCUMENT_FIELDS.index(name)
        for name in (
            "story_id",
            "community",
            "community_name",
            "recorded_on",
            "published_at",
            "generation_count",
            "duration_seconds",
        )
    )
    ids = np.fromiter((row[story] for row in documents), dtype=np.int64, count=count)
    codes = {
        facet: np.fromiter((code(facet, row[column]) for row in documents), dtype=np.int32, count=count)
        for facet, column in ((facet, _DOCUMENT_FIELDS.index(facet)) for facet in SINGLE_VALUED)
    }
    labels["community"].update({row[community]: row[community_name] for row in documents if row[community]})
    recorded = np.fromiter(
        (row[recorded_on].toordinal() if row[recorded_on] else 0 for row in documents), dtype=np.int32, count=count
    )
    published = np.fromiter(
        ((row[published_at] - _EPOCH).total_seconds() if row[published_at] else 0.0 for row in documents),
        dtype=np.float64,
        count=count,
    )
    generation_count = np.fromiter((row[generations] for row in documents), dtype=np.int16, count=count)
    lengths = np.fromiter((lengths_by_id.get(row[story], 0) for row in documents), dtype=np.int32, count=count)
    durations = np.fromiter((row[duration] or 0.0 for row in documents), dtype=np.float64, count=count)

    cells = {facet: ([], []) for facet in MULTI_VALUED}
    for story_id, facet, value, label in tags:
        labels[facet][value] = label
        cells[facet][0].append(story_id)
        cells[facet][1].append(code(facet, value))
    members = {}
    for facet in MULTI_VALUED:
        matrix = np.zeros((count, len(values[facet])), dtype=bool)
        # A tag whose story was written after the documents were read has no row.
        rows, held = _rows_of(ids, np.asarray(cells[facet][0], dtype=np.int64))
        matrix[rows, np.asarray(cells[facet][1], dtype=np.int64)[held]] = True
        members[facet] = matrix

    if previous is not None:
        old_members = {}
        for facet in MULTI_VALUED:
            widened = np.zeros((int(kept.sum()), len(values[facet])), dtype=bool)
            widened[:, : previous.members[facet].shape[1]] = previous.members[facet][kept]
            old_members[facet] = widened
        order = np.argsort(np.concatenate([previous.ids[kept], ids]), kind="stable")

        def joined(old, new):
            return np.concatenate([old[kept], new])[order]

        ids = joined(previous.ids, ids)
        codes = {facet: joined(previous.codes[facet], codes[facet]) for facet in SINGLE_VALUED}
        members = {facet: np.concatenate([old_members[facet], members[facet]])[order] for facet in MULTI_VALUED}
        recorded = joined(previous.recorded, recorded)
        published = joined(previous.published, published)
        generation_count = joined(previous.generation_count, generation_count)
        lengths = joined(previous.lengths, lengths)
        durations = joined(previous.durations, durations)

    return Columns(
        token=token,
        change_id=change_id,
        ids=ids,
        codes=codes,
        members=members,
        values=values,
        labels=labels,
        recorded=recorded,
        published=published,
        generation_count=generation_count,
        lengths=lengths,
        durations=durations,
    )


def _ranks(order: np.ndarray) -> np.ndarray:
    ranks = np.empty_like(order)
    ranks[order] = np.arange(len(order))
    return ranks
