"""Story search benchmark: a synthetic archive, our /api/search beside Wagtail's stock database search.

    DATABASE_URL=sqlite:////tmp/bench-10k.db .venv/bin/python bench/search_bench.py --stories 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/search_bench .venv/bin/python bench/search_bench.py --stories 100000

The archive is written with bulk inserts (page tree paths computed here), so 100,000 stories take minutes, not hours.
Each story gets about 10 transcript segments. Not a test: it prints figures for docs/benchmarks.md.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyarchive.settings.base")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from wagtail.models import Page  # noqa: E402

from search.services import search_index_rebuild  # noqa: E402
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
from transcription.models import Segment, Transcript  # noqa: E402

# Words people say in these stories; drawn with a Zipf-like weight so some are common and some rare.
ENGLISH = (
    "housing house home rent school teacher bus train road work job wages family grandmother grandfather neighbour "
    "church garden river water food market kitchen clinic doctor health safe safety flood fire winter summer farm "
    "factory union music dance story language library college money bank loan land tree park forest storm bridge "
    "street corner shop store child children youth elder community meeting vote council mayor city town village "
    "harvest field apples bread letters war peace travel car bicycle walk belonging friend wedding funeral prayer"
).split()
SPANISH = "vivienda casa escuela trabajo familia abuela barrio comida agua tierra río iglesia mercado".split()
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


def words(rnd, count, vocabulary):
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return " ".join(rnd.choices(vocabulary, weights=weights, k=count))


def build_archive(total: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    existing = StoryPage.objects.count()
    if existing >= total:
        print(f"archive already holds {existing} stories")
        return
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
    content_type = ContentType.objects.get_for_model(StoryPage)
    now = timezone.now()
    batch = 2000
    for first in range(existing, total, batch):
        numbers = range(first, min(first + batch, total))
        with transaction.atomic():
            pages = Page.objects.bulk_create(
                [
                    Page(
                        title=f"Story {n} {words(rnd, 3, ENGLISH)}",
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
                    for n in numbers
                ]
            )
            media = StoryMedia.objects.bulk_create(
                [StoryMedia(id=uuid.uuid4(), file="bench.wav", size=1, sha256="0" * 64, container="wav") for _ in pages]
            )
            with connection.cursor() as cursor:
                rows = []
                for page, recording in zip(pages, media, strict=True):
                    spanish = rnd.random() < 0.1
                    rows.append(
                        (
                            page.pk,
                            words(rnd, 30, SPANISH if spanish else ENGLISH),
                            "[]",
                            recording.pk.hex if connection.vendor == "sqlite" else str(recording.pk),
                            f"{rnd.randint(1990, 2026)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                            "es" if spanish else "en",
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
                    participants.append(StoryParticipant(page_id=page.pk, person=person, sort_order=0))
                    consents.append(
                        Consent(
                            story_id=page.pk,
                            person=person,
                            given_by="bench",
                            method=Consent.Method.SIGNED_FORM,
                            guardian_name="Guardian",
                            guardian_consented_on=now.date(),
                        )
                    )
                for theme in rnd.sample(themes, 2):
                    tagged.append(StoryPage.themes.through(storypage_id=page.pk, theme_id=theme.pk))
            StoryParticipant.objects.bulk_create(participants)
            Consent.objects.bulk_create(consents)
            StoryPage.themes.through.objects.bulk_create(tagged)
            transcripts = Transcript.objects.bulk_create(
                [Transcript(media=m, model_name="bench", status="done", is_current=True) for m in media]
            )
            Segment.objects.bulk_create(
                [
                    Segment(transcript=t, index=i, start=i * 12.5, end=i * 12.5 + 11, text=words(rnd, 14, ENGLISH))
                    for t in transcripts
                    for i in range(10)
                ]
            )
        print(f"  {numbers[-1] + 1} stories", flush=True)
    type(index).objects.filter(pk=index.pk).update(numchild=total)
    print(f"built {total - existing} stories in {time.perf_counter() - started:.1f} s")


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=1, help="measured times through the query list")
    parser.add_argument("--warm", action="store_true", help="one unmeasured round first")
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    build_archive(args.stories)

    if not args.skip_rebuild:
        started = time.perf_counter()
        indexed = search_index_rebuild()
        print(f"search_index rebuild: {indexed} stories in {time.perf_counter() - started:.1f} s")
        from wagtail.search.backends import get_search_backend as wagtail_search_backend

        started = time.perf_counter()
        wagtail_backend = wagtail_search_backend()
        for first in range(0, StoryPage.objects.count(), 1000):
            wagtail_backend.add_bulk(StoryPage, list(StoryPage.objects.order_by("pk")[first : first + 1000]))
        print(f"Wagtail stock index of the same stories: {time.perf_counter() - started:.1f} s")

    client = Client()
    ours, stock = [], []
    for round_number in range(0 if args.warm else 1, args.rounds + 1):
        for term in QUERIES:
            started = time.perf_counter()
            response = client.get("/api/search", {"q": term})
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.content[:300]
            started = time.perf_counter()
            results = StoryPage.objects.live().public().search(term.strip('"'))
            list(results[:20])
            results.facet("language")
            stock_elapsed = time.perf_counter() - started
            if round_number:  # the first round warms caches
                ours.append(elapsed)
                stock.append(stock_elapsed)
    p50, p95 = percentiles(ours)
    s50, s95 = percentiles(stock)
    print(f"\n{args.stories} stories, {connection.vendor}, {len(ours)} queries over {len(QUERIES)} terms")
    print("| search | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(f"| /api/search (visibility rule, 5 facets, moments, JSON over the test client) | {p50:.1f} | {p95:.1f} |")
    print(f"| Wagtail stock `live().public().search()` + 20 hits + `facet('language')` | {s50:.1f} | {s95:.1f} |")


if __name__ == "__main__":
    main()
