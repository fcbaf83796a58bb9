"""The embedded default: the archive's own index tables, FTS5 on SQLite and tsvector + GIN on PostgreSQL."""

from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.expressions import RawSQL

from stories.models import StoryPage

from ..analysis import QUERY_ANALYZERS, SearchText, fold, highlight, stemmed_text, words
from ..models import SegmentDocument, StoryDocument, StoryFacetValue
from ..query import FACETS, MOMENTS_PER_HIT, FacetValue, Moment, StoryQuery, StorySearchResults
from ..selectors import IndexedStory
from .hits import facet_labels, forget_stale, hits_in_order, visible_story_ids

SNIPPET_WORDS = 18
SUGGESTION_DOCUMENTS = 200
POSTGRES_CONFIGS = {"english": "english", "spanish": "spanish", "simple": "simple"}


class DatabaseBackend:
    name = "database"

    # Writing ---------------------------------------------------------------------------------------------------

    def index_story(self, story: IndexedStory) -> None:
        with transaction.atomic():
            self.remove_story(story.id)
            self._write(story)

    def remove_story(self, story_id: int) -> None:
        with transaction.atomic():
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM search_story_fts WHERE rowid = %s", [story_id])
                    cursor.execute(
                        "DELETE FROM search_segment_fts WHERE rowid IN "
                        "(SELECT id FROM search_segmentdocument WHERE document_id = %s)",
                        [story_id],
                    )
            StoryDocument.objects.filter(pk=story_id).delete()

    def rebuild(self, stories) -> int:
        with transaction.atomic():
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM search_story_fts")
                    cursor.execute("DELETE FROM search_segment_fts")
            StoryDocument.objects.all().delete()
            indexed = 0
            for story in stories:
                self._write(story)
                indexed += 1
        return indexed

    def _write(self, story: IndexedStory) -> None:
        document = StoryDocument.objects.create(
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
            generation_count=story.generation_count,
        )
        StoryFacetValue.objects.bulk_create(
            [StoryFacetValue(document=document, facet="theme", value=slug, label=name) for slug, name in story.themes]
            + [
                StoryFacetValue(document=document, facet="generation", value=slug, label=label)
                for slug, label in story.generations
            ]
        )
        segments = SegmentDocument.objects.bulk_create(
            [
                SegmentDocument(document=document, position=s.position, start=s.start, end=s.end, text=s.text)
                for s in story.segments
            ]
        )
        searchable = " ".join([story.body, story.transcript, *(name for _, name in story.themes), story.community_name])
        everything = " ".join([story.title, story.summary, searchable])
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "INSERT INTO search_story_fts(rowid, title, body, words) VALUES (%s, %s, %s, %s)",
                    [
                        story.id,
                        stemmed_text(story.title, story.analyzer),
                        stemmed_text(f"{story.summary} {searchable}", story.analyzer),
                        " ".join(fold(word) for word in words(everything)),
                    ],
                )
                cursor.executemany(
                    "INSERT INTO search_segment_fts(rowid, text) VALUES (%s, %s)",
                    [(segment.pk, stemmed_text(segment.text, story.analyzer)) for segment in segments],
                )
            else:
                config = POSTGRES_CONFIGS[story.analyzer]
                # Only the words go to PostgreSQL: its parser would otherwise drop "<script>" as an XML tag, or
                # read an address as one token, and match differently from FTS5.
                cursor.execute(
                    "UPDATE search_storydocument SET search_vector = "
                    "setweight(to_tsvector(%s::regconfig, %s), 'A') || setweight(to_tsvector(%s::regconfig, %s), 'B')"
                    " || to_tsvector(%s::regconfig, %s), words = to_tsvector('simple', %s) WHERE story_id = %s",
                    [
                        config,
                        plain_words(story.title),
                        config,
                        plain_words(story.summary),
                        config,
                        plain_words(searchable),
                        plain_words(everything),
                        story.id,
                    ],
                )
                cursor.executemany(
                    "UPDATE search_segmentdocument SET search_vector = to_tsvector(%s::regconfig, %s) WHERE id = %s",
                    [(config, plain_words(segment.text), segment.pk) for segment in segments],
                )

    # Reading ---------------------------------------------------------------------------------------------------

    def search(self, query: StoryQuery) -> StorySearchResults:
        text = query.search_text
        documents = StoryDocument.objects.all()
        if text:
            documents = documents.filter(story_id__in=_matching_story_ids(text))
        # The index holds only stories that were public when indexed, and every change queues a refresh. The rule
        # runs again on the stories about to be shown: one that has left public view is taken out of this answer
        # (hits, count and facets) and queued for removal. Running the rule over every indexed story on every query
        # would cost more than the search itself.
        for _attempt in range(3):
            page = list(_ordered(documents.filter(*_filters(query).values()), query, text))
            stale = {doc.pk for doc in page} - visible_story_ids([doc.pk for doc in page])
            if not stale:
                break
            forget_stale(stale)
            documents = documents.exclude(pk__in=stale)
        total = documents.filter(*_filters(query).values()).count()
        facets = {facet: self._facet(facet, query, documents) for facet in FACETS}

        moments = _moments(text, page) if text else {}
        snippets = {doc.pk: _snippet(doc, text) for doc in page}
        scores = {doc.pk: float(getattr(doc, "score", 0.0) or 0.0) for doc in page}
        hits = hits_in_order([doc.pk for doc in page], snippets, scores, moments)
        return StorySearchResults(query=query, total=total - (len(page) - len(hits)), hits=hits, facets=facets)

    def _facet(self, facet: str, query: StoryQuery, documents) -> list[FacetValue]:
        # The counts a choice would give: every filter applies except this facet's own.
        filters = _filters(query)
        filters.pop(facet, None)
        scoped = documents.filter(*filters.values())
        if facet in ("theme", "generation"):
            rows = (
                StoryFacetValue.objects.filter(facet=facet, document__in=scoped.values("pk"))
                .values("value")
                .annotate(count=Count("document_id"), label=F("label"))
                .values_list("value", "label", "count")
            )
            counts = {}
            for value, label, count in rows:
                previous = counts.get(value, (label, 0))
                counts[value] = (previous[0], previous[1] + count)
        elif facet == "community":
            rows = scoped.values_list("community", "community_name").annotate(count=Count("pk")).order_by()
            counts = {value: (name, count) for value, name, count in rows if value}
        else:
            rows = scoped.values_list(facet).annotate(count=Count("pk")).order_by()
            counts = {value: (_label(facet, value), count) for value, count in rows if value}
        selected = query.selected(facet)
        for value in selected:
            counts.setdefault(value, (_label(facet, value), 0))
        return sorted(
            (FacetValue(value=v, label=label, count=n, selected=v in selected) for v, (label, n) in counts.items()),
            key=lambda f: (-f.count, f.label.lower()),
        )

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]:
        typed = words(prefix[-100:])
        if not typed or len(typed[-1]) < 2:
            return []
        start = fold(typed[-1])
        if connection.vendor == "sqlite":
            match = RawSQL(
                "SELECT rowid FROM search_story_fts WHERE search_story_fts MATCH %s", [f'words : "{start}" *']
            )
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
                cursor.execute(f"SELECT words FROM search_story_fts WHERE rowid IN ({marks})", story_ids)
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


def _filters(query: StoryQuery) -> dict[str, Q]:
    """One Q per facet or range, so a facet's own filter can be left out of its counts."""
    filters = {}
    for facet in ("theme", "generation"):
        if values := query.selected(facet):
            tagged = StoryFacetValue.objects.filter(facet=facet, value__in=values).values("document_id")
            filters[facet] = Q(pk__in=tagged)
    for facet in ("community", "language", "kind"):
        if values := query.selected(facet):
            filters[facet] = Q(**{f"{facet}__in": values})
    if query.intergenerational:
        filters["intergenerational"] = Q(generation_count__gte=2)
    if query.recorded_from:
        filters["recorded_from"] = Q(recorded_on__gte=query.recorded_from)
    if query.recorded_to:
        filters["recorded_to"] = Q(recorded_on__lte=query.recorded_to)
    return filters


def _label(facet: str, value: str) -> str:
    return facet_labels(facet, [value]).get(value, value)


def _tsquery(text: SearchText, *, any_term: bool = False) -> tuple[str, list]:
    """A PostgreSQL tsquery: every term (or any, for moments) under each language's stemming, OR'd together."""
    per_config, params = [], []
    for analyzer in QUERY_ANALYZERS:
        parts = []
        for term in text.terms:
            parts.append("plainto_tsquery(%s::regconfig, %s)")
            params += [POSTGRES_CONFIGS[analyzer], term]
        for phrase in text.phrases:
            parts.append("phraseto_tsquery(%s::regconfig, %s)")
            params += [POSTGRES_CONFIGS[analyzer], " ".join(phrase)]
        per_config.append("(" + (" || " if any_term else " && ").join(parts) + ")")
    return "(" + " || ".join(per_config) + ")", params


def _matching_story_ids(text: SearchText) -> RawSQL:
    if connection.vendor == "sqlite":
        return RawSQL("SELECT rowid FROM search_story_fts WHERE search_story_fts MATCH %s", [text.fts5_match()])
    tsquery, params = _tsquery(text)
    return RawSQL(f"SELECT story_id FROM search_storydocument WHERE search_vector @@ {tsquery}", params)


def _ordered(matching, query: StoryQuery, text: SearchText):
    """One page of the matching documents in the order asked for."""
    if text and query.sort == "relevance":
        ordered = _ranked(matching, text).order_by("-score", "-published_at", "-pk")
    elif query.sort == "oldest":
        ordered = matching.order_by(F("recorded_on").asc(nulls_last=True), "published_at", "pk")
    else:
        ordered = matching.order_by(F("recorded_on").desc(nulls_last=True), "-published_at", "-pk")
    return ordered[query.offset : query.offset + query.page_size]


def _ranked(documents, text: SearchText):
    """The documents with a `score`, higher for better matches."""
    if connection.vendor == "sqlite":
        # A join lets FTS5 rank every match in one pass; bm25 is lower for better matches, titles weigh most and
        # the plain-words column not at all.
        return documents.extra(
            select={"score": "-bm25(search_story_fts, 5.0, 1.0, 0.0)"},
            tables=["search_story_fts"],
            where=["search_story_fts.rowid = search_storydocument.story_id", "search_story_fts MATCH %s"],
            params=[text.fts5_match()],
        )
    tsquery, params = _tsquery(text)
    return documents.annotate(score=RawSQL(f"ts_rank(search_storydocument.search_vector, {tsquery})", params))


def _moments(text: SearchText, page: list[StoryDocument]) -> dict[int, list[Moment]]:
    """Up to three segments per story where any of the words come up, best first, then shown in time order."""
    if not page:
        return {}
    analyzers = {doc.pk: doc.analyzer for doc in page}
    marks = ", ".join(["%s"] * len(page))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT s.document_id, s.start, s.end, s.text FROM search_segment_fts f "
                "JOIN search_segmentdocument s ON s.id = f.rowid "
                f"WHERE search_segment_fts MATCH %s AND s.document_id IN ({marks}) "
                "ORDER BY bm25(search_segment_fts), s.position",
                [text.fts5_any(), *analyzers],
            )
        else:
            tsquery, params = _tsquery(text, any_term=True)
            cursor.execute(
                "SELECT s.document_id, s.start, s.end, s.text FROM search_segmentdocument s "
                f"WHERE s.search_vector @@ {tsquery} AND s.document_id IN ({marks}) "
                f"ORDER BY ts_rank(s.search_vector, {tsquery}) DESC, s.position",
                [*params, *analyzers, *params],
            )
        rows = cursor.fetchall()
    moments = defaultdict(list)
    for story_id, start, end, segment_text in rows:
        if len(moments[story_id]) < MOMENTS_PER_HIT:
            moments[story_id].append(
                Moment(start, end, segment_text, highlight(segment_text, text, analyzers[story_id]))
            )
    return {story_id: sorted(found, key=lambda m: m.start) for story_id, found in moments.items()}


def _snippet(document: StoryDocument, text: SearchText):
    """The summary, or the written story where the words come up in it."""
    source = document.summary or document.body
    if text:
        stems = text.stems(document.analyzer)
        for candidate in (document.summary, document.body):
            if candidate and any(stemmed in stems for stemmed in stemmed_text(candidate, document.analyzer).split()):
                source = candidate
                break
    return highlight(source, text, document.analyzer, around=SNIPPET_WORDS)
