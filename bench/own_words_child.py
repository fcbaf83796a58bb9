"""In their own words at one archive on one database: /insights/words/ and /api/insights/words for each filter,
through Django's test client in this one process.

    DATABASE_URL=sqlite:///var/bench/search-100000.sqlite3 .venv/bin/python bench/own_words_child.py --rounds 20

Point it at a copy: a story found hidden while its words are read is queued for removal. The first request of each
filter reads and counts the words of up to 100 stories of each generation (search.figures.READ_PER_GENERATION); this process then keeps each story's
counted words and each answer until the index changes, so later rounds show what a warm server answers. Prints one
JSON line last: the milliseconds of every request by filter and address, the first request of each apart.
`words_latencies` is also what bench/insights_child.py may call beside its own addresses.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyarchive.settings.base")

from bench.common import FILTERS  # noqa: E402

ADDRESSES = ("/insights/words/", "/api/insights/words")


def words_latencies(client, *, rounds: int, filters: dict = FILTERS) -> dict:
    """{"first": {filter: {address: ms}}, "times": {filter: {address: [ms, ...]}}}: the first answer of each filter
    (nothing kept yet: the /api/ address's first comes after the page's, which has counted the words), then `rounds`
    more of each, the filters taken in turn."""
    from insights.words import forget

    forget()
    first, times = {}, {name: {address: [] for address in ADDRESSES} for name in filters}
    for name, parameters in filters.items():
        first[name] = {address: _timed(client, address, parameters) for address in ADDRESSES}
    for _round in range(rounds):
        for name, parameters in filters.items():
            for address in ADDRESSES:
                times[name][address].append(_timed(client, address, parameters))
    return {"first": first, "times": times}


def _timed(client, address: str, parameters: dict) -> float:
    target = f"{address}?{urlencode(parameters, doseq=True)}" if parameters else address
    started = time.perf_counter()
    response = client.get(target)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{target} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed


def main():
    import django

    django.setup()
    from django.test import Client

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    arguments = parser.parse_args()
    measured = words_latencies(Client(HTTP_HOST="localhost"), rounds=arguments.rounds)
    for name, by_address in measured["times"].items():
        for address, times in by_address.items():
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0
            print(
                f"{name:32} {address:22} first {measured['first'][name][address]:8.1f} ms, then p95 {p95:7.1f} ms",
                file=sys.stderr,
            )
    print(json.dumps(measured))


if __name__ == "__main__":
    main()
