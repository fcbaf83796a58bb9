"""The embedded default: the archive's own index tables, FTS5 on SQLite and tsvector + GIN on PostgreSQL."""

import gc
from collections import Counter, defaultdict
from contextlib import contextmanager
from itertools import islice

import numpy as np
from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from stories.models import StoryPage

from ..analysis import POSTGRES_CONFIGS, QUERY_ANALYZERS, SearchText, fold, stemmed_text, words
from ..columns import Columns, columns, index_changed
from ..figures import READ_PER_GENERATION, StoryFigures, StoryTexts, stories_to_read
from ..models import SegmentDocument, StoryDocument, StoryFacetValue
from ..postings import BODY_WEIGHT, TITLE_WEIGHT, best_first, scored_matches
from ..query import FACETS, FacetValue, Moment, StoryQuery, StorySearchResults
from ..selectors import IndexedStory
from .counting import count_figures
from .hits import (
    best_moments,
    facet_labels,
    forget_stale,
    hits_in_order,
    story_snippet,
    visible_stories,
    visible_story_ids,
)

REBUILD_BATCH = 500
SUGGESTION_DOCUMENTS = 200
# FTS5's ranking with the weights the in-memory scoring uses (search/postings.py): a title word counts five times.
BM25 = f"bm25(search_story_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"


class DatabaseBackend:
    name = "database"

    # Writing ---------------------------------------------------------------------------------------------------

    def index_story(self, story: IndexedStory) -> None:
        with transaction.atomic():
            index_changed([story.id])
            self._remove(story.id)
            self._write([story])

    def remove_story(self, story_id: int) -> None:
        with transaction.atomic():
            index_changed([story_id])
            self._remove(story_id)

    def _remove(self, story_id: int) -> None:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM search_story_fts WHERE rowid = %s", [story_id])
                cursor.execute("DELETE FROM search_word_fts WHERE rowid = %s", [story_id])
        # On PostgreSQL a trigger takes the story's postings with its document (migration 0006).
        StoryDocument.objects.filter(pk=story_id).delete()

    def indexed_ids(self, among=None) -> set[int]:
        """The ids of the stories in the index: all of them, or those among `among`."""
        documents = StoryDocument.objects.all()
        if among is not None:
            documents = documents.filter(pk__in=list(among))
        return set(documents.values_list("pk", flat=True))

    def rebuild(self, stories) -> int:
        """Replace the whole index in one transaction, so searches see the old index until the new one is whole."""
        with transaction.atomic():
            index_changed(None)
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    cursor.execute("DELETE FROM search_story_fts")
                    cursor.execute("DELETE FROM search_word_fts")
                else:
                    # Every posting at once; the trigger that would look up each document's own is told so.
                    cursor.execute("SET LOCAL search.rebuilding = 'on'")
                    cursor.execute("DELETE FROM search_story_term")
                # Whole tables, children first: Django's cascade would first read every id into memory.
                for model in (StoryFacetValue, SegmentDocument, StoryDocument):
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
                if connection.vendor == "postgresql":
                    # SET LOCAL lasts to the end of the outermost transaction: later deletes in it need the trigger.
                    cursor.execute("SET LOCAL search.rebuilding = 'off'")
            indexed = 0
            stories = iter(stories)
            while batch := list(islice(stories, REBUILD_BATCH)):
                self._write(batch)
                indexed += len(batch)
        self._measure_tables()
        return indexed

    def _measure_tables(self) -> None:
        """After a rebuild on PostgreSQL: statistics for the planner and, outside a transaction, VACUUM's visibility
        map, without which reading postings and columns from their indexes alone would visit every row."""
        if connection.vendor != "postgresql":
            return
        tables = ", ".join(
            connection.ops.quote_name(table)
            for table in (
                "search_story_term",
                StoryDocument._meta.db_table,
                StoryFacetValue._meta.db_table,
                SegmentDocument._meta.db_table,
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM (ANALYZE)'} {tables}")

    def _write(self, stories: list[IndexedStory]) -> None:
        """Write stories that are not in the index yet, with a fixed number of statements per call."""
        StoryDocument.objects.bulk_create(
            [
                StoryDocument(
                    story_id=story.id,
                    title=story.title,
                    summary=story.summary,
                    body=story.body,
                    analyzer=story.analyzer,
                    language=story.language,
                    kind=story.kind,
                    community=story.community,
                    community_name=story.community_name,
                    recorded_on=story.recorded_on,
                    published_at=story.published_at,
                    duration_seconds=story.duration_seconds,
                    generation_count=story.generation_count,
                )
                for story in stories
            ]
        )
        StoryFacetValue.objects.bulk_create(
            [
                StoryFacetValue(document_id=story.id, facet=facet, value=slug, label=label)
                for story in stories
                for facet, values in (("theme", story.themes), ("generation", story.generations))
                for slug, label in values
            ]
        )
        SegmentDocument.objects.bulk_create(
            [
                SegmentDocument(document_id=story.id, position=s.position, start=s.start, end=s.end, text=s.text)
                for story in stories
                for s in story.segments
            ]
        )
        story_rows = []
        for story in stories:
            searchable = " ".join(
                [story.body, story.transcript, *(name for _, name in story.themes), story.community_name]
            )
            everything = " ".join([story.title, story.summary, searchable])
            if connection.vendor == "sqlite":
                story_rows.append(
                    (
                        story.id,
                        stemmed_text(story.title, story.analyzer),
                        stemmed_text(f"{story.summary} {searchable}", story.analyzer),
                        " ".join(fold(word) for word in words(everything)),
                    )
                )
            else:
                config = POSTGRES_CONFIGS[story.analyzer]
                story_rows.append(
                    (
                        config,
                        plain_words(story.title),
                        config,
                        plain_words(story.summary),
                        config,
                        plain_words(searchable),
                        plain_words(everything),
                        story.id,
                    )
                )
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.executemany(
                    "INSERT INTO search_story_fts(rowid, title, body) VALUES (%s, %s, %s)",
                    [row[:3] for row in story_rows],
                )
                cursor.executemany(
                    "INSERT INTO search_word_fts(rowid, words) VALUES (%s, %s)",
                    [(row[0], row[3]) for row in story_rows],
                )
            else:
                # Only the words go to PostgreSQL: its parser would otherwise drop "<script>" as an XML tag, or
                # read an address as one token, and match differently from FTS5.
                cursor.executemany(
                    "UPDATE search_storydocument SET search_vector = "
                    "setweight(to_tsvector(%s::regconfig, %s), 'A') || setweight(to_tsvector(%s::regconfig, %s), 'B')"
                    " || to_tsvector(%s::regconfig, %s), words = to_tsvector('simple', %s) WHERE story_id = %s",
                    story_rows,
                )
                # The postings and lengths ranking reads (search/postings.py), from the vectors just written: a
                # title word (weight A) counts five times.
                written = [story.id for story in stories]
                cursor.execute(
                    "UPDATE search_storydocument SET indexed_length = "
                    "(SELECT coalesce(max(position), 0) FROM unnest(search_vector), unnest(positions) AS position) "
                    "WHERE story_id = ANY(%s)",
                    [written],
                )
                cursor.execute(
                    "INSERT INTO search_story_term (term, story_id, weighted) SELECT lexeme, story_id, "
                    f"(SELECT sum(CASE WHEN weight = 'A' THEN {TITLE_WEIGHT} ELSE {BODY_WEIGHT} END) "
                    "FROM unnest(weights) AS weight) "
                    "FROM search_storydocument, unnest(search_vector) WHERE story_id = ANY(%s)",
                    [written],
                )

    # Reading ---------------------------------------------------------------------------------------------------

    def search(self, query: StoryQuery) -> StorySearchResults:
        text = query.search_text
        table = columns()
        ranked = bool(text) and query.sort == "relevance"
        rows, row_scores = _matching_rows(table, text)
        masks = _filter_masks(table, query, rows)
        chosen = _all_of(masks.values(), len(rows))
        # The index holds only stories that were public when indexed, and every change queues a refresh. The rule
        # runs again on the stories about to be shown: one that has left public view is taken out of this answer
        # (hits, count and facets) and queued for removal. Running the rule over every indexed story on every query
        # would cost more than the search itself.
        for _attempt in range(3):
            if ranked and row_scores is not None:
                page, scores = _scored_page(table.ids[rows[chosen]], row_scores[chosen], query)
            elif ranked:
                page, scores = _ranked_page(text, query, table.ids[rows[chosen]], filtered=bool(masks))
            else:
                page, scores = [int(table.ids[row]) for row in _ordered_page(table, query, rows[chosen])], {}
            stories = visible_stories(page)
            stale = set(page) - set(stories)
            if not stale:
                break
            fresh = ~np.isin(table.ids[rows], list(stale))
            rows, chosen = rows[fresh], chosen[fresh]
            row_scores = row_scores[fresh] if row_scores is not None else None
            masks = {name: mask[fresh] for name, mask in masks.items()}
        total = int(chosen.sum())
        facets = {}
        for facet in FACETS:
            # The counts a choice would give: every filter applies except this facet's own.
            scoped = _all_of((mask for name, mask in masks.items() if name != facet), len(rows))
            facets[facet] = _facet_values(table, facet, query, table.counts(facet, rows[scoped]))

        documents = StoryDocument.objects.in_bulk(page)
        page_documents = [documents[pk] for pk in page if pk in documents]
        moments = _moments(text, page_documents) if text else {}
        snippets = {doc.pk: _snippet(doc, text) for doc in page_documents}
        scores_shown = {doc.pk: scores.get(doc.pk, 0.0) for doc in page_documents}
        hits = hits_in_order([doc.pk for doc in page_documents], snippets, scores_shown, moments, stories=stories)
        return StorySearchResults(query=query, total=total - (len(page) - len(hits)), hits=hits, facets=facets)

    def insights(self, query: StoryQuery) -> StoryFigures:
        """Stories and seconds of recording over every indexed story the query matches, counted in the columns.

        Only stories the public may see are in the index: hiding one takes it out inside the transaction that hid
        it (search.handlers), so the counts need no second look at the rule."""
        table = columns()
        rows, _scores = _matching_rows(table, query.search_text)
        rows = rows[_all_of(_filter_masks(table, query, rows).values(), len(rows))]
        return count_figures(table, rows, query)

    def texts_to_read(self, query: StoryQuery, *, per_generation: int = READ_PER_GENERATION) -> StoryTexts:
        """The stories the query matches, counted by generation, and those whose words to read."""
        table = columns()
        rows, _scores = _matching_rows(table, query.search_text)
        rows = rows[_all_of(_filter_masks(table, query, rows).values(), len(rows))]
        members = table.members["generation"][rows]
        values = table.values["generation"]
        stories = {values[code]: int(n) for code, n in enumerate(members.sum(axis=0).tolist()) if n}
        chosen = stories_to_read(table.ids[rows], members, per_generation)
        read = {
            int(table.ids[rows[position]]): tuple(values[code] for code in np.flatnonzero(members[position]))
            for position in chosen.tolist()
        }
        return StoryTexts(query=query, stories=stories, read=read, state=table.token)

    def story_passages(self, story_ids) -> dict[int, tuple[str, ...]]:
        """The stories' own words; the rule runs again on them first, as on a page of hits, and a story it hides
        has none (and is queued to leave the index)."""
        wanted = sorted(visible_story_ids(story_ids))
        forget_stale(set(story_ids) - set(wanted))
        passages = defaultdict(list)
        for story_id, body in StoryDocument.objects.filter(pk__in=wanted).values_list("pk", "body"):
            passages[story_id].append(body)
        segments = SegmentDocument.objects.filter(document_id__in=wanted).order_by("document_id", "position")
        for story_id, text in segments.values_list("document_id", "text"):
            passages[story_id].append(text)
        return {story_id: tuple(found) for story_id, found in passages.items()}

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        typed = words(prefix[-100:])
        if not typed or len(typed[-1]) < 2:
            return []
        start = fold(typed[-1])
        if connection.vendor == "sqlite":
            match = RawSQL("SELECT rowid FROM search_word_fts WHERE search_word_fts MATCH %s", [f'"{start}" *'])
        else:
            match = RawSQL(
                "SELECT story_id FROM search_storydocument WHERE words @@ to_tsquery('simple', %s)", [f"{start}:*"]
            )
        candidates = list(
            StoryDocument.objects.filter(story_id__in=match).values_list("story_id", flat=True)[:SUGGESTION_DOCUMENTS]
        )
        # The rule again, on the stories whose words would be suggested.
        story_ids = sorted(visible_story_ids(candidates))
        forget_stale(set(candidates) - set(story_ids))
        if not story_ids:
            return []
        counts = Counter()
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(story_ids))
            if connection.vendor == "sqlite":
                cursor.execute(f"SELECT words FROM search_word_fts WHERE rowid IN ({marks})", story_ids)
                for (stored,) in cursor.fetchall():
                    counts.update({word for word in stored.split() if word.startswith(start)})
            else:
                cursor.execute(
                    "SELECT lexeme, count(*) FROM search_storydocument, unnest(words) "
                    f"WHERE story_id IN ({marks}) AND starts_with(lexeme, %s) GROUP BY lexeme",
                    [*story_ids, start],
                )
                counts.update(dict(cursor.fetchall()))
        return [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]]

    def status(self) -> dict:
        return {
            "backend": self.name,
            "database": connection.vendor,
            "healthy": True,
            "indexed_stories": StoryDocument.objects.count(),
            "indexed_segments": SegmentDocument.objects.count(),
            "public_stories": StoryPage.objects.visible_to_public().count(),
        }


def plain_words(text: str) -> str:
    return " ".join(words(text))


def _matching_rows(table: Columns, text: SearchText) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows whose stories hold the words (every row without any), and their scores where they were scored here."""
    # Plain words are matched and scored from their postings in memory; phrases go to the database.
    scored = scored_matches(text, table)
    if scored is not None:
        return scored
    rows = table.rows_of(_matching_ids(text))[0] if text else np.arange(len(table), dtype=np.int64)
    return rows, None


def _filter_masks(table: Columns, query: StoryQuery, rows: np.ndarray) -> dict[str, np.ndarray]:
    """One mask over the rows per facet or range, so a facet's own filter can be left out of its counts."""
    masks = {}
    for facet in FACETS:
        if selected := query.selected(facet):
            masks[facet] = table.value_mask(facet, rows, selected)
    if query.intergenerational:
        masks["intergenerational"] = table.generation_count[rows] >= 2
    recorded = table.recorded[rows]
    if query.recorded_from:
        masks["recorded_from"] = recorded >= query.recorded_from.toordinal()
    if query.recorded_to:
        masks["recorded_to"] = (recorded > 0) & (recorded <= query.recorded_to.toordinal())
    return masks


def _all_of(masks, size: int) -> np.ndarray:
    chosen = np.ones(size, dtype=bool)
    for mask in masks:
        chosen &= mask
    return chosen


def _facet_values(table: Columns, facet: str, query: StoryQuery, counts: dict[str, int]) -> list[FacetValue]:
    labels = table.labels.get(facet, {})
    if facet in ("language", "kind"):
        labels = facet_labels(facet, list(counts))
    selected = query.selected(facet)
    missing = [value for value in selected if value not in counts]
    if missing:
        labels = {**facet_labels(facet, missing), **labels}
    shown = {**dict.fromkeys(missing, 0), **counts}
    return sorted(
        (
            FacetValue(value=value, label=labels.get(value, value), count=count, selected=value in selected)
            for value, count in shown.items()
        ),
        key=lambda f: (-f.count, f.label.lower()),
    )


def _ordered_page(table: Columns, query: StoryQuery, candidates: np.ndarray) -> list[int]:
    """The rows of one page in newest- or oldest-first order, picked from the candidate rows."""
    wanted = query.offset + query.page_size
    if query.offset >= len(candidates):
        return []
    rank = table.oldest_rank if query.sort == "oldest" else table.newest_rank
    keys = rank[candidates]
    if wanted < len(candidates):
        keep = np.argpartition(keys, wanted - 1)[:wanted]
        candidates, keys = candidates[keep], keys[keep]
    return candidates[np.argsort(keys, kind="stable")][query.offset : wanted].tolist()


def _matching_ids(text: SearchText) -> np.ndarray:
    """The ids of the stories that match, unranked: the cheap half of a search, for the total and the facets."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # One string of ids made inside SQLite: a common word matches most stories, and a Python row per story
            # would cost several times the match itself.
            cursor.execute(
                "SELECT group_concat(rowid) FROM search_story_fts WHERE search_story_fts MATCH %s",
                [text.fts5_match()],
            )
            joined = cursor.fetchone()[0]
            return np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.empty(0, dtype=np.int64)
        tsquery, params = _tsquery(text)
        cursor.execute(f"SELECT story_id FROM search_storydocument WHERE search_vector @@ {tsquery}", params)
        with _collector_paused():
            return np.fromiter((row[0] for row in cursor), dtype=np.int64)


def _scored_page(ids: np.ndarray, scores: np.ndarray, query: StoryQuery):
    """One page of these stories, best score first, and each one's score."""
    best = best_first(ids, scores, query.offset, query.offset + query.page_size)
    return [int(ids[i]) for i in best], {int(ids[i]): float(scores[i]) for i in best}


def _ranked_page(text: SearchText, query: StoryQuery, allowed_ids: np.ndarray, *, filtered: bool):
    """One page of the allowed stories, best match first, and each one's score (higher is better).

    The database ranks every match and the rows are read best first until the page is full. Without filters only
    the best few are asked for (SQLite then keeps a short heap instead of sorting every match); with filters, or if
    a story among the best is not allowed, rows are read on until the page is full.
    """
    wanted = query.offset + query.page_size
    if query.offset >= len(allowed_ids):
        return [], {}
    allowed = np.zeros(int(allowed_ids.max()) + 1, dtype=bool)
    allowed[allowed_ids] = True
    for limit in [None] if filtered else [wanted + 20, None]:
        best, seen = [], 0
        with connection.cursor() as cursor:
            cursor.execute(*_ranked_sql(text, limit))
            while len(best) < wanted and (batch := cursor.fetchmany(max(wanted * 4, 100))):
                seen += len(batch)
                best += [(int(pk), float(score)) for pk, score in batch if pk < len(allowed) and allowed[pk]]
        if len(best) >= wanted or limit is None or seen < limit:
            break
    page = best[query.offset : wanted]
    return [pk for pk, _ in page], dict(page)


def _ranked_sql(text: SearchText, limit: int | None) -> tuple[str, list]:
    """Every match, best first: (story id, score) rows."""
    tail = f" LIMIT {int(limit)}" if limit else ""
    if connection.vendor == "sqlite":
        # bm25 is lower for better matches; titles weigh five times the rest. Equal scores: newest id first.
        return (
            f"SELECT rowid, -{BM25} FROM search_story_fts WHERE search_story_fts MATCH %s ORDER BY {BM25}, rowid DESC"
            + tail,
            [text.fts5_match()],
        )
    tsquery, params = _tsquery(text)
    return (
        f"SELECT story_id, ts_rank(search_vector, {tsquery}) AS score FROM search_storydocument "
        f"WHERE search_vector @@ {tsquery} ORDER BY score DESC, story_id DESC" + tail,
        [*params, *params],
    )


@contextmanager
def _collector_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _tsquery(text: SearchText) -> tuple[str, list]:
    """A PostgreSQL tsquery: every term under each language's stemming, OR'd together."""
    per_config, params = [], []
    for analyzer in QUERY_ANALYZERS:
        parts = []
        for term in text.terms:
            parts.append("plainto_tsquery(%s::regconfig, %s)")
            params += [POSTGRES_CONFIGS[analyzer], term]
        for phrase in text.phrases:
            parts.append("phraseto_tsquery(%s::regconfig, %s)")
            params += [POSTGRES_CONFIGS[analyzer], " ".join(phrase)]
        per_config.append("(" + " && ".join(parts) + ")")
    return "(" + " || ".join(per_config) + ")", params


def _moments(text: SearchText, page: list[StoryDocument]) -> dict[int, list[Moment]]:
    """Each story's moments (see best_moments), from its indexed segments.

    Read here rather than from a full-text table: a page holds a few hundred segments, and matching them in Python
    with the index's own stemming is quicker than a second full-text search across every segment in the archive."""
    if not page:
        return {}
    analyzers = {doc.pk: doc.analyzer for doc in page}
    segments = defaultdict(list)
    for story_id, *segment in SegmentDocument.objects.filter(document_id__in=list(analyzers)).values_list(
        "document_id", "position", "start", "end", "text"
    ):
        segments[story_id].append(segment)
    moments = {story_id: best_moments(text, found, analyzers[story_id]) for story_id, found in segments.items()}
    return {story_id: found for story_id, found in moments.items() if found}


def _snippet(document: StoryDocument, text: SearchText):
    return story_snippet(document.summary, document.body, text, document.analyzer)
