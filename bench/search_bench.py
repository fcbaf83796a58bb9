"""Story search benchmark: a synthetic archive, /api/search on whichever backend the settings choose.

    DATABASE_URL=sqlite:///var/bench/search-10000.sqlite3 .venv/bin/python bench/search_bench.py --stories 10000
    ELASTICSEARCH_URL=http://127.0.0.1:9200 ELASTICSEARCH_INDEX_PREFIX=storyarchive-bench DATABASE_URL=... \
        .venv/bin/python bench/search_bench.py --stories 100000

The archive is written with bulk inserts (page tree paths computed here), so 100,000 stories take minutes, not hours.
Each story gets 10 transcript segments of 14 words (--segments). Each term is searched in turn by /api/search through
Django's test client, by /api/search again just after an (untimed) index change, with --stock by Wagtail's stock
search, and on SQLite's database backend by a raw FTS5 MATCH ranked with bm25(). bench/search.py runs the rebuild
(--skip-searches) and the searches (--skip-rebuild) in two processes, so the second holds only what a web process
would. Not a test: it prints its figures, and bench/search.py turns the JSON it writes with --json into
docs/benchmarks.md.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time
import uuid
from collections import Counter
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("DATABASE_URL"):
    sys.exit("Set DATABASE_URL to a scratch database: this writes thousands of stories into it.")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyarchive.settings.base")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import OperationalError, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from wagtail.models import Page  # noqa: E402

from bench.common import median, percentile  # noqa: E402
from search.analysis import SearchText  # noqa: E402
from search.backends import get_search_backend  # noqa: E402
from search.backends.database import BM25  # noqa: E402
from search.query import StoryQuery  # noqa: E402
from search.services import search_index_rebuild, story_index_refresh  # noqa: E402
from stories.models import (  # noqa: E402
    Community,
    Consent,
    Person,
    StoryIndexPage,
    StoryMedia,
    StoryPage,
    StoryParticipant,
    Theme,
)
from stories.services.public import refresh_statistics  # noqa: E402
from transcription.models import Segment, Transcript  # noqa: E402

# The archive's vocabulary. Words are drawn as speech draws them: nearly half are function words ("the", "we"), the
# rest follow a Zipf curve over 4,000 content words. The themed words people search for sit at content ranks 30 to
# 1,500, so the most common of them ("housing") comes up in about a third of the stories and the rarest in under 1%.
# The first corpus drew every word from the 100 themed words alone, so every query term matched 40-100% of the
# archive, which no real collection of transcripts does; those broad searches are still measured, separately, with
# the function words (BROAD), which each come up in most stories.
ENGLISH = (
    "housing house home rent school teacher bus train road work job wages family grandmother grandfather neighbour "
    "church garden river water food market kitchen clinic doctor health safe safety flood fire winter summer farm "
    "factory union music dance story language library college money bank loan land tree park forest storm bridge "
    "street corner shop store child children youth elder community meeting vote council mayor city town village "
    "harvest field apples bread letters war peace travel car bicycle walk belonging friend wedding funeral prayer"
).split()
SPANISH = "vivienda casa escuela trabajo familia abuela barrio comida agua tierra río iglesia mercado".split()
FUNCTION_WORDS = {
    "en": "the and i we was to a of in it that my you he she they there were had so but on for with at all when "
    "what then just like our us me this be is would could one".split(),
    "es": "el la de que y en los se del las un por con una su para es al lo como mi nos pero cuando".split(),
}
FUNCTION_SHARE = 0.45
CONTENT_WORDS = 4000
QUERIES = [
    *ENGLISH[:36],
    "houses",
    "schools",
    "working",
    '"safe housing"',
    "grandmother garden",
    "viviendas",
    "casas",
    "hou",
]
BROAD = ["the", "and", "we", "was", "they", "there", "when", "our"]
# Themed words the rotated QUERIES never ask for, so a backend cannot be quick on them by having seen them before.
UNUSED = [*ENGLISH[36::3], *SPANISH[6::3]]
# PostgreSQL's english configuration drops function words as stop words, so BROAD finds almost nothing there. The
# commonest made-up content words come up in most stories too and no backend drops them: they are searched as well.
FREQUENT_COUNT = 4


class Vocabulary:
    """Function words and a Zipf-weighted content vocabulary with the themed words spread over its ranks."""

    def __init__(self, rnd: random.Random, themed: list[str], function_words: list[str]):
        filler = iter(sorted(pseudo_words(rnd, CONTENT_WORDS * 2) - set(themed) - set(function_words)))
        ranks = {round(30 * (1500 / 30) ** (i / max(len(themed) - 1, 1))): word for i, word in enumerate(themed)}
        self.content = [ranks.get(rank) or next(filler) for rank in range(1, CONTENT_WORDS + 1)]
        self.content_weights = list(accumulate(1 / rank for rank in range(1, CONTENT_WORDS + 1)))
        self.function_words = function_words
        self.function_weights = list(accumulate(1 / rank for rank in range(1, len(function_words) + 1)))

    def words(self, rnd: random.Random, count: int) -> str:
        spoken = []
        for _ in range(count):
            if rnd.random() < FUNCTION_SHARE:
                spoken += rnd.choices(self.function_words, cum_weights=self.function_weights)
            else:
                spoken += rnd.choices(self.content, cum_weights=self.content_weights)
        return " ".join(spoken)


def pseudo_words(rnd: random.Random, count: int) -> set[str]:
    """Pronounceable made-up words ("tamori", "belko"): full-text search treats them like any other word."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    found = set()
    while len(found) < count:
        found.add("".join(rnd.choice(consonants) + rnd.choice(vowels) for _ in range(rnd.randint(2, 3))))
    return found


def build_archive(total: int, *, segments: int = 10, seed: int = 7) -> bool:
    """Add stories until the archive holds `total`, each with `segments` transcript segments of 14 words."""
    rnd = random.Random(seed)
    existing = StoryPage.objects.count()
    if existing >= total:
        print(f"archive already holds {existing} stories")
        return False
    started = time.perf_counter()
    index = StoryIndexPage.objects.get()
    themes = list(Theme.objects.all())
    communities = [
        Community.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench community {n}"})[0]
        for n in range(20)
    ]
    people = Person.objects.bulk_create(
        [Person(display_name=f"Teller {n}", birth_year=rnd.randint(1935, 2005)) for n in range(400)]
    )
    vocabularies = {
        "en": Vocabulary(rnd, ENGLISH, FUNCTION_WORDS["en"]),
        "es": Vocabulary(rnd, SPANISH, FUNCTION_WORDS["es"]),
    }
    if existing:
        # An archive grown in steps keeps its vocabulary but draws new stories, not its first ones again.
        rnd.seed(seed + existing)
    content_type = ContentType.objects.get_for_model(StoryPage)
    now = timezone.now()
    batch = 2000
    for first in range(existing, total, batch):
        numbers = range(first, min(first + batch, total))
        languages = ["es" if rnd.random() < 0.1 else "en" for _ in numbers]
        with transaction.atomic():
            pages = Page.objects.bulk_create(
                [
                    Page(
                        title=f"Story {n} {vocabularies[language].words(rnd, 3)}",
                        draft_title=f"Story {n}",
                        slug=f"bench-story-{n}",
                        path=StoryPage._get_path(index.path, index.depth + 1, n + 1),
                        depth=index.depth + 1,
                        numchild=0,
                        live=True,
                        first_published_at=now,
                        last_published_at=now,
                        content_type=content_type,
                        url_path=f"{index.url_path}bench-story-{n}/",
                        locale_id=index.locale_id,
                        seo_title="",
                        search_description="",
                    )
                    for n, language in zip(numbers, languages, strict=True)
                ]
            )
            media = [uuid.uuid4() for _ in pages]
            insert_rows(
                StoryMedia,
                [{"id": m, "file": "bench.wav", "size": 1, "sha256": "0" * 64, "container": "wav"} for m in media],
            )
            with connection.cursor() as cursor:
                rows = []
                for page, recording, language in zip(pages, media, languages, strict=True):
                    rows.append(
                        (
                            page.pk,
                            vocabularies[language].words(rnd, 30),
                            "[]",
                            recording.hex if connection.vendor == "sqlite" else str(recording),
                            f"{rnd.randint(1990, 2026)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                            language,
                            rnd.choice(communities).pk,
                            "public",
                        )
                    )
                cursor.executemany(
                    "INSERT INTO stories_storypage (page_ptr_id, summary, body, recording_id, recorded_on, language, "
                    "community_id, visibility) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
            participants, consents, tagged = [], [], []
            for page in pages:
                for person in rnd.sample(people, rnd.choice((1, 2, 2, 3))):
                    participants.append({"page_id": page.pk, "person_id": person.pk, "sort_order": 0})
                    consents.append(
                        {
                            "story_id": page.pk,
                            "person_id": person.pk,
                            "given_by": "bench",
                            "method": Consent.Method.SIGNED_FORM,
                            "guardian_name": "Guardian",
                            "guardian_consented_on": now.date(),
                        }
                    )
                for theme in rnd.sample(themes, 2):
                    tagged.append({"storypage_id": page.pk, "theme_id": theme.pk})
            insert_rows(StoryParticipant, participants)
            insert_rows(Consent, consents)
            insert_rows(StoryPage.themes.through, tagged)
            insert_rows(
                Transcript,
                [{"media_id": m, "model_name": "bench", "status": "done", "is_current": True} for m in media],
            )
            transcripts = dict(Transcript.objects.filter(media_id__in=media).values_list("media_id", "pk"))
            insert_rows(
                Segment,
                [
                    {
                        "transcript_id": transcripts[m],
                        "index": i,
                        "start": i * 12.5,
                        "end": i * 12.5 + 11,
                        "text": vocabularies[language].words(rnd, 14),
                    }
                    for m, language in zip(media, languages, strict=True)
                    for i in range(segments)
                ],
            )
        print(f"  {numbers[-1] + 1} stories", flush=True)
    type(index).objects.filter(pk=index.pk).update(numchild=total)
    # As every bulk load of the archive does: the planner measures the tables it has just grown.
    refresh_statistics()
    print(f"built {total - existing} stories in {time.perf_counter() - started:.1f} s")
    return True


def insert_rows(model, rows: list[dict]) -> None:
    """Insert plain rows: bulk_create's model instances and per-field compiling cost more than the inserts here.
    Every row names the same fields; each field left out takes its default, computed once for all the rows."""
    if not rows:
        return
    sample = model()
    fields = [
        field
        for field in model._meta.concrete_fields
        if field.attname in rows[0] or not (field.primary_key and getattr(sample, field.attname) is None)
    ]
    defaults = {
        field.attname: field.get_db_prep_save(field.pre_save(sample, True), connection)
        for field in fields
        if field.attname not in rows[0]
    }
    given = {field.attname for field in fields if field.attname in rows[0]}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({marks})",
            [
                tuple(
                    field.get_db_prep_save(row[field.attname], connection)
                    if field.attname in given
                    else defaults[field.attname]
                    for field in fields
                )
                for row in rows
            ],
        )


def floor_search(database: str):
    """A raw FTS5 MATCH on the same index with the backend's own expression and bm25 weights, top 20 by rank, through
    Python's sqlite3 with no Django in between: the floor under any search that ranks with FTS5's bm25(), which the
    backend did for every query until plain words were scored in memory (search/postings.py)."""
    raw = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def search(term: str) -> None:
        raw.execute(
            f"SELECT rowid FROM search_story_fts WHERE search_story_fts MATCH ? ORDER BY {BM25} LIMIT 20",
            [SearchText.parse(term).fts5_match()],
        ).fetchall()

    return search


# Wagtail's stock search takes seconds per query on these archives; past this it is stopped and counted at the cap,
# so a 100,000-story run ends in minutes. The report says how many were stopped.
STOCK_CAP_SECONDS = 10.0


class Capped(Exception):
    pass


def stock_search(term: str) -> None:
    """What a Wagtail site gets out of the box: the stock database search, 20 hits and one facet."""
    deadline = time.perf_counter() + STOCK_CAP_SECONDS
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.set_progress_handler(lambda: int(time.perf_counter() > deadline), 10_000)
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(STOCK_CAP_SECONDS * 1000)}")
    try:
        results = StoryPage.objects.live().public().search(term.strip('"'))
        list(results[:20])
        results.facet("language")
    except OperationalError as error:
        if "interrupted" not in str(error) and "statement timeout" not in str(error):
            raise
        raise Capped from error
    finally:
        if connection.vendor == "sqlite":
            connection.connection.set_progress_handler(None, 0)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")


def frequent_words(count: int = FREQUENT_COUNT, sample: int = 3000) -> list[str]:
    """The content words found in the most story summaries among the first `sample` stories."""
    stop_words = {*FUNCTION_WORDS["en"], *FUNCTION_WORDS["es"]}
    found = Counter()
    for summary in StoryPage.objects.order_by("pk").values_list("summary", flat=True)[:sample]:
        found.update(set(summary.split()) - stop_words)
    return [word for word, _ in found.most_common(count)]


def matched(term: str) -> int:
    """How many stories the term finds, as the backend in use counts them."""
    return get_search_backend().search(StoryQuery(text=term)).total


def measure(terms, rounds, searches, before=None) -> dict[str, list[float]]:
    """Milliseconds per search, each engine on each term in turn; the first round warms caches and is not kept.
    Wagtail's stock search runs once per term, in the last round; one stopped at the cap counts at the cap, and
    `capped` says how many were. `before` names untimed steps to run ahead of an engine's every search."""
    samples = {name: [] for name in searches}
    samples["capped"] = []
    before = before or {}
    for round_number in range(rounds + 1):
        for term in terms:
            for name, search in searches.items():
                if name == "stock" and round_number != rounds:
                    continue  # seconds per query: once per term, in the last round, keeps the run to minutes
                if name in before:
                    before[name]()
                started = time.perf_counter()
                try:
                    search(term)
                    elapsed = (time.perf_counter() - started) * 1000
                except Capped:
                    elapsed = STOCK_CAP_SECONDS * 1000
                    samples["capped"].append(term)
                if round_number:
                    samples[name].append(elapsed)
    return samples


def timed_rebuild() -> dict:
    """`search_index rebuild`, timed, with the part of it spent reading the stories from the database and the CPU time
    this process (and an Elasticsearch node) used, which say where the time went."""
    reading = 0.0

    def read_timed(records, total):
        nonlocal reading
        stories = iter(records)
        while True:
            started = time.perf_counter()
            story = next(stories, None)
            reading += time.perf_counter() - started
            if story is None:
                return
            yield story

    node_before = node_stats()
    cpu_before, started = time.process_time(), time.perf_counter()
    indexed = search_index_rebuild(progress=read_timed)
    figures = {
        "indexed": indexed,
        "rebuild_s": time.perf_counter() - started,
        "rebuild_cpu_s": time.process_time() - cpu_before,
        "rebuild_reading_s": reading,
    }
    if node_before:
        figures["rebuild_node_cpu_s"] = (node_stats()["cpu_ms"] - node_before["cpu_ms"]) / 1000
    print(
        f"search_index rebuild: {indexed} stories in {figures['rebuild_s']:.1f} s "
        f"({figures['rebuild_reading_s']:.1f} s reading stories, {figures['rebuild_cpu_s']:.1f} s CPU here)",
        flush=True,
    )
    return figures


def node_stats() -> dict | None:
    """The Elasticsearch node's heap and CPU time and the story index's size, or None on the database backend."""
    backend = get_search_backend()
    if backend.name != "elasticsearch":
        return None
    client = backend.client
    node = next(iter(client.nodes.stats(metric="jvm,process")["nodes"].values()))
    stats = {
        "heap_used_mb": node["jvm"]["mem"]["heap_used_in_bytes"] / 2**20,
        "heap_max_mb": node["jvm"]["mem"]["heap_max_in_bytes"] / 2**20,
        "cpu_ms": node["process"]["cpu"]["total_in_millis"],
    }
    if client.indices.exists_alias(name=backend.alias):
        primaries = client.indices.stats(index=backend.alias, metric="store,docs")["_all"]["primaries"]
        stats["index_mb"] = primaries["store"]["size_in_bytes"] / 2**20
        stats["lucene_documents"] = primaries["docs"]["count"]
    return stats


def process_memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), from the kernel."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return {"rss_mb": found["VmRSS"], "peak_mb": found["VmHWM"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=10000)
    parser.add_argument("--segments", type=int, default=10, help="transcript segments per story (14 words each)")
    parser.add_argument("--rounds", type=int, default=2, help="measured times through each term list")
    parser.add_argument("--json", help="write every sample here")
    parser.add_argument("--stock", action="store_true", help="index and search with Wagtail's stock search too")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--skip-searches", action="store_true", help="build the archive and rebuild the index only")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    backend = get_search_backend()
    figures = {"stories": args.stories, "database": connection.vendor, "backend": backend.name}
    started = time.perf_counter()
    built = build_archive(args.stories, segments=args.segments)
    figures["built_s"] = time.perf_counter() - started if built else None

    if not args.skip_rebuild:
        figures.update(timed_rebuild())
        if args.stock:
            from wagtail.search.backends import get_search_backend as wagtail_search_backend

            started = time.perf_counter()
            wagtail_backend = wagtail_search_backend()
            # Large batches: each add_bulk recomputes a norm over every entry indexed so far.
            for first in range(0, StoryPage.objects.count(), 10_000):
                wagtail_backend.add_bulk(
                    StoryPage, list(StoryPage.objects.order_by("pk").prefetch_related("themes")[first : first + 10_000])
                )
            figures["stock_index_s"] = time.perf_counter() - started
            print(f"Wagtail stock index of the same stories: {figures['stock_index_s']:.1f} s", flush=True)
    if not args.skip_searches:
        figures.update(searches(args.rounds, stock=args.stock))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


def searches(rounds: int, *, stock: bool) -> dict:
    """Every term through /api/search (and the peers), with this process's memory and the node's heap afterwards."""
    figures = {"memory_before_searches": process_memory_mb()}
    client = Client()
    # Where a search's time goes: how long it waited on the database, and for how many queries.
    in_database = {"ms": 0.0, "queries": 0}

    def timed_query(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_database["ms"] += (time.perf_counter() - started) * 1000
            in_database["queries"] += 1

    waited = {"ms": [], "queries": []}

    def ours(term: str) -> None:
        in_database.update(ms=0.0, queries=0)
        with connection.execute_wrapper(timed_query):
            response = client.get("/api/search", {"q": term})
        assert response.status_code == 200, response.content[:300]
        waited["ms"].append(in_database["ms"])
        waited["queries"].append(in_database["queries"])

    # The first search of a process that has only started Django: it loads the index's columns.
    started = time.perf_counter()
    ours(UNUSED[0])
    figures["first_search_ms"] = (time.perf_counter() - started) * 1000
    figures["first_search_database_ms"] = waited["ms"][-1]
    print(f"first search in this process: {figures['first_search_ms']:.0f} ms", flush=True)

    # The first search after any index change: on the database backend the process catches its columns up with the
    # change and reads each word's postings afresh; on Elasticsearch the change is refreshed into a new searcher.
    # One story is re-indexed, untimed, before each of these searches.
    refreshed = StoryPage.objects.order_by("pk").values_list("pk", flat=True).first()

    def index_changed() -> None:
        story_index_refresh(story_id=refreshed)

    engines = {"ours": ours}
    if connection.vendor == "sqlite" and get_search_backend().name == "database":
        engines["floor"] = floor_search(connection.settings_dict["NAME"])
    total = StoryPage.objects.count()
    for name, terms in (
        ("selective", QUERIES),
        ("unused", UNUSED),
        ("broad", BROAD),
        ("frequent", frequent_words()),
    ):
        waited["ms"].clear()
        waited["queries"].clear()
        timed = measure(terms, rounds, engines)
        figures[name] = {
            "terms": terms,
            "matched": {term: matched(term) / total for term in terms},
            # The warming round's searches are left out, as from the times.
            "database_ms": waited["ms"][len(terms) :],
            "database_queries": waited["queries"][len(terms) :],
            # The searches after an index change run in a pass of their own: each change empties what the process
            # keeps, so interleaved with the others they would make every other search a first one too.
            "ms": {
                **timed,
                # Wagtail's stock search in its own pass too: a ten-second query left the next /api/search in the
                # same process half as fast again (p50 28 -> 43 ms at 100,000 stories), which no served request sees.
                **(measure(terms, 1, {"stock": stock_search}) if stock else {}),
                "ours_after_change": measure(
                    terms, rounds, {"ours_after_change": ours}, before={"ours_after_change": index_changed}
                )["ours_after_change"],
            },
        }
        shares = sorted(figures[name]["matched"].values())
        print(
            f"\n{total} stories, {connection.vendor}, {get_search_backend().name}, {name} terms: each in "
            f"{shares[0]:.1%} to {shares[-1]:.1%} of the stories (median {median(shares):.1%})"
        )
        print("| search | p50 ms | p95 ms |\n|---|---|---|")
        for engine, samples in figures[name]["ms"].items():
            if engine == "capped":
                if stock:
                    print(f"stock searches stopped at {STOCK_CAP_SECONDS:g} s: {len(samples)}")
                continue
            print(f"| {engine} | {median(samples):.1f} | {percentile(samples, 0.95):.1f} |")
    if stock:
        figures["stock_cap_s"] = STOCK_CAP_SECONDS
    figures["memory_after_searches"] = process_memory_mb()
    figures["node"] = node_stats()
    print(f"memory: {figures['memory_after_searches']}; node: {figures['node']}")
    return figures


if __name__ == "__main__":
    main()
