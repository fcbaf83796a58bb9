"""Insights beside search at one archive on one database, through Django's test client in this one process.

    DATABASE_URL=sqlite:///var/bench/insights-100000.sqlite3 .venv/bin/python bench/insights_child.py --rounds 20

Run by bench/insights.py on its own copy of a pages archive. For every filter, /insights/, /api/insights and
/api/search of the same filter are asked in turn, round after round, so the three share the machine's noise. Prints
one JSON line last: the milliseconds of every request, by filter and address.
"""

import argparse
import gc
import importlib
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyarchive.settings.base")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402

from audience import beacon, playable  # noqa: E402
from bench.common import FILTERS  # noqa: E402
from stories.models import PublicStory, StoryPage, Theme  # noqa: E402

WARM_UP = 2
BEACON_ROUNDS = 200
# The addresses timed for every filter; the search of the same filter is the peer the insights are read beside.
ADDRESSES = {
    "/insights/": "/insights/",
    "/api/insights": "/api/insights",
    "/api/search": "/api/search",
}


def path(address: str, parameters: dict) -> str:
    return f"{address}?{urlencode(parameters)}" if parameters else address


def timed(client: Client, target: str) -> float:
    started = time.perf_counter()
    response = client.get(target)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{target} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed


def through_beacon_handler(application, story: int, n: int) -> float:
    """One report through storyarchive/wsgi.py as gunicorn would hand it over, from a listener of its own."""
    request = RequestFactory().post(
        "/listened",
        json.dumps({"story": story, "stretches": [n % 3], "play": True}),
        content_type="text/plain",
        HTTP_HOST="localhost",
        HTTP_SEC_FETCH_SITE="same-origin",
        REMOTE_ADDR=f"10.8.{n % 250}.1",
    )
    statuses = []
    # As in a web process between reports: no connection open. One left open by the other measurements would be
    # closed by the handler as the request starts (CONN_MAX_AGE 0), which on SQLite checkpoints its log.
    connections.close_all()
    started = time.perf_counter()
    answer = application(request.environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(answer)
    answer.close()
    elapsed = (time.perf_counter() - started) * 1000
    if not statuses[0].startswith("202"):
        raise RuntimeError(f"/listened answered {statuses[0]}")
    return elapsed


def beacon_costs(client: Client) -> dict[str, list[float]]:
    """Where a listening report's time goes: the whole report through the beacon's own handler, its check against
    the stored answer this process holds, the rule asked once per batch by the writer, and a request that does next
    to nothing (robots.txt) through Django's whole middleware."""
    from storyarchive.wsgi import application

    stories = list(
        StoryPage.objects.visible_to_public().exclude(recording=None).order_by("pk").values_list("pk", flat=True)[:100]
    )
    costs = {
        "a listening report, through its own handler": [],
        "its check against the stored answer the process holds": [],
        "the rule asked about a batch's 100 stories, by the writer": [],
        "a request doing next to nothing": [],
    }
    # Each story heard once before the timing, as by a beacon worker that has been running a while: the first report
    # of a story reads it from the database, every later one from the process's memory.
    for n, story in enumerate(stories):
        through_beacon_handler(application, story, n)
    version = cache.get(playable.VERSION_KEY)
    for n in range(BEACON_ROUNDS):
        story = stories[n % len(stories)]
        costs["a listening report, through its own handler"].append(through_beacon_handler(application, story, n))
        started = time.perf_counter()
        beacon._check_story(story, [0], version=version)
        costs["its check against the stored answer the process holds"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        lengths = dict(
            StoryPage.objects.visible_to_public()
            .filter(pk__in=stories, recording__isnull=False)
            .values_list("pk", "recording__duration_seconds")
        )
        costs["the rule asked about a batch's 100 stories, by the writer"].append(
            (time.perf_counter() - started) * 1000
        )
        if len(lengths) != len(stories):
            raise RuntimeError("the rule hides a story the bench posts plays for")
        costs["a request doing next to nothing"].append(timed(client, "/robots.txt"))
    return costs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    arguments = parser.parse_args()
    call_command("migrate", verbosity=0)  # the copy may predate a migration
    if not Theme.objects.filter(slug=FILTERS["a theme"]["theme"]).exists():
        raise SystemExit("this archive lacks the bench's theme: build it with bench/pages.py first")
    figures = {"public": PublicStory.objects.listed().count(), "times": {}}
    # Start as the server does (storyarchive/wsgi.py: the archive loaded, then gc.freeze), as bench/pages_child.py.
    gc.collect()
    importlib.import_module("storyarchive.wsgi")
    client = Client(HTTP_HOST="localhost")
    for name, parameters in FILTERS.items():
        print(f"  {name}", file=sys.stderr, flush=True)
        times = figures["times"][name] = {address: [] for address in ADDRESSES}
        for address in ADDRESSES.values():
            for _ in range(WARM_UP):
                timed(client, path(address, parameters))
        for _ in range(arguments.rounds):
            for label, address in ADDRESSES.items():
                times[label].append(timed(client, path(address, parameters)))
    figures["beacon"] = beacon_costs(client)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
