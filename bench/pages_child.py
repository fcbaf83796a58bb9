"""One archive size on one database: build it, store the rule's answer, then time every public listing uncached.

    DATABASE_URL=sqlite:///var/bench/pages-1000.sqlite3 .venv/bin/python bench/pages_child.py --stories 1000

Run by bench/pages.py, which compares the sizes. Each page is requested through Django's test client in this one
process (no page cache exists to skip the work), a few times to warm up and then --rounds times; a story page is a
different story each time. Prints one JSON line last: the milliseconds of every request, by page.
"""

import argparse
import gc
import importlib
import json
import random
import re
import sys
import time
import tracemalloc
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.search_bench import build_archive  # noqa: E402  (sets Django up on DATABASE_URL)
from stories.factories import CollectionEntryFactory, CollectionPageFactory  # noqa: E402
from stories.models import (  # noqa: E402
    CollectionPage,
    Community,
    PublicStory,
    PublicStoryTheme,
    StoryMedia,
    StoryPage,
    Theme,
    private_storage,
)
from stories.selectors import Cursor  # noqa: E402
from stories.services.public import public_stories_rebuild  # noqa: E402

# How deep the deep pages are: page 2,000 of twenty, or the last page of a smaller archive.
DEEP_PAGE = 2000
WARM_UP = 3
ACCESS_COPY = "bench/access.m4a"
SMALL_FEED = "bench-feed"
FEED_EPISODES = 50
# Judged on time alone: its size follows the archive's, up to the most a feed lists.
LONGEST_FEED = "a large community's podcast feed (all its stories, at most 500)"


def deep_cursor(rows) -> str:
    """The place a visitor paging older reaches on page DEEP_PAGE (found here untimed, by offset)."""
    position = max(min(DEEP_PAGE * 20, rows.count()) - 21, 0)
    published_at, story_id = rows.order_by("-published_at", "-story_id").values_list("published_at", "story_id")[
        position
    ]
    return str(Cursor(published_at=published_at, story_id=story_id))


def prepare(stories: int) -> dict:
    """Build the archive (kept between runs), store the rule's answer and a collection; return the setup figures."""
    figures = {"stories": stories, "database": connection.vendor}
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if build_archive(stories, segments=2):
        figures["built_s"] = time.perf_counter() - started
    set_up_small_feed()
    started = time.perf_counter()
    figures["public"] = public_stories_rebuild()
    figures["stored_answer_s"] = time.perf_counter() - started
    # The builder's recordings have no access copy; the feeds and manifests list only recordings that do. One small
    # file stands in for every access copy (feeds read each one's size from storage).
    if not private_storage().exists(ACCESS_COPY):
        private_storage().save(ACCESS_COPY, ContentFile(b"\0" * 4096))
    StoryMedia.objects.filter(access_copy="").update(
        access_copy=ACCESS_COPY, access_content_type="audio/mp4", duration_seconds=125.0
    )
    if not CollectionPage.objects.filter(slug="bench-collection").exists():
        collection = CollectionPageFactory(title="Bench collection", slug="bench-collection")
        for order, story_id in enumerate(PublicStory.objects.listed().order_by("story_id")[:30]):
            CollectionEntryFactory(page=collection, story=StoryPage.objects.get(pk=story_id.story_id), sort_order=order)
    if connection.vendor == "postgresql":
        # The rule's answer and the access copies above rewrite every story's rows: without this the first timings
        # would plan on the statistics from before them, until autovacuum's next pass (a live archive's steady state).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return figures


def set_up_small_feed() -> None:
    """A community of FEED_EPISODES recorded stories in both archives: its feed is the same size at 1,000 and at
    100,000 stories, so the two compare what the archive's size costs. A large community's feed lists the most a feed
    holds (podcasts.selectors.FEED_SIZE) at 100,000 stories but only its fifty-odd stories at 1,000, so it is held to
    the time goal alone."""
    community, _ = Community.objects.get_or_create(slug=SMALL_FEED, defaults={"name": "Bench feed"})
    if not StoryPage.objects.filter(community=community).exists():
        chosen = list(StoryPage.objects.filter(recording__isnull=False).order_by("pk")[:FEED_EPISODES])
        StoryPage.objects.filter(pk__in=[story.pk for story in chosen]).update(community=community)


def pages() -> dict[str, str | list[str]]:
    theme = Theme.objects.order_by("pk").first()
    listed = PublicStory.objects.listed()
    some = list(listed.order_by("story_id").values_list("story_id", flat=True)[:: max(listed.count() // 40, 1)])
    story_urls = [StoryPage.objects.get(pk=pk).url for pk in some]

    return {
        "home": "/",
        "story index": "/stories/",
        f"story index, page {DEEP_PAGE}": f"/stories/?after={deep_cursor(listed)}",
        "a community": "/communities/bench-0/",
        "a theme": f"/themes/{theme.slug}/",
        f"a theme, page {DEEP_PAGE}": f"/themes/{theme.slug}/?after={deep_cursor(PublicStoryTheme.objects.filter(theme=theme))}",
        "communities": "/communities/",
        "themes": "/themes/",
        "collections": "/collections/",
        "a collection": CollectionPage.objects.get(slug="bench-collection").url,
        "a story": story_urls,
        "/api/stories": "/api/stories",
        f"/api/stories, page {DEEP_PAGE}": f"/api/stories?after={deep_cursor(listed)}",
        "/api/stories of a community": "/api/stories?community=bench-0",
        "/api/communities": "/api/communities",
        "/api/themes": "/api/themes",
        "/api/collections": "/api/collections",
        "OAI-PMH ListRecords, 100 records": "/oai/?verb=ListRecords&metadataPrefix=oai_dc",
        "OAI-PMH ListRecords, the next 100": f"/oai/?verb=ListRecords&resumptionToken={resumption_token()}",
        f"a community's podcast feed ({FEED_EPISODES} episodes)": f"/communities/{SMALL_FEED}/feed.xml",
        LONGEST_FEED: "/communities/bench-0/feed.xml",
        "a story's IIIF manifest": [f"/stories/{pk}/manifest.json" for pk in some],
        "sitemap index": "/sitemap.xml",
        "sitemap of the other pages": "/sitemap-pages.xml",
    }


def resumption_token() -> str:
    page = Client(HTTP_HOST="localhost").get("/oai/", {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    return quote(unescape(re.search(r"<resumptionToken[^>]*>([^<]+)<", page.content.decode())[1]))


def sitemap_pages(client: Client) -> dict[str, str]:
    index = client.get("/sitemap.xml").content.decode()

    found = [urlsplit(unescape(loc)) for loc in re.findall(r"<loc>([^<]+)</loc>", index) if "sitemap-stories" in loc]
    return {
        f"sitemap of stories, page {n}": address.path + (f"?{address.query}" if address.query else "")
        for n, address in enumerate(found, 1)
    }


def timed(client: Client, paths: list[str], rounds: int) -> list[float]:
    for path in paths[:WARM_UP]:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    times = []
    for n in range(rounds):
        path = paths[n % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sitemap-rounds", type=int, default=3)
    arguments = parser.parse_args()
    figures = prepare(arguments.stories)
    # Then start as the server does: storyarchive/wsgi.py loads the archive and moves what it loaded out of the
    # garbage collector's reach (gc.freeze), which keeps a full collection from pausing a request for a tenth of a
    # second. The building above is collected first, so only the archive's own start-up is kept.
    gc.collect()
    importlib.import_module("storyarchive.wsgi")
    client = Client(HTTP_HOST="localhost")
    random.seed(7)
    figures["pages"] = {}
    figures["time_alone"] = [LONGEST_FEED]
    for name, path in pages().items():
        paths = path if isinstance(path, list) else [path]
        print(f"  {name}", file=sys.stderr, flush=True)
        figures["pages"][name] = timed(client, paths, arguments.rounds)
    figures["sitemap_pages"] = {}
    for name, path in sitemap_pages(client).items():
        figures["sitemap_pages"][name] = timed(client, [path], arguments.sitemap_rounds)
        tracemalloc.start()
        client.get(path)
        figures.setdefault("sitemap_peak_mb", {})[name] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
