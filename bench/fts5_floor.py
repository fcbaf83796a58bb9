"""The floor under story search: a raw FTS5 MATCH on the archive's own index, top 20 by the same bm25 weights, nothing else.

Run as a child: python bench/fts5_floor.py DATABASE.sqlite3 ROUNDS TERM... ; prints one JSON line of milliseconds.
The MATCH expression is the one the database backend builds, so the floor searches exactly what /api/search does.
"""

import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search.analysis import SearchText  # noqa: E402


def main() -> None:
    database, rounds, terms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    latencies = []
    for round_number in range(rounds + 1):
        for term in terms:
            started = time.perf_counter()
            match = SearchText.parse(term).fts5_match()
            connection.execute(
                "SELECT rowid FROM search_story_fts WHERE search_story_fts MATCH ? ORDER BY bm25(search_story_fts, 5.0, 1.0) LIMIT 20",
                [match],
            ).fetchall()
            if round_number:  # the first round warms the page cache, as in search_bench.py
                latencies.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"milliseconds": latencies}))


if __name__ == "__main__":
    main()
