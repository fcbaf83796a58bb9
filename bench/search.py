"""Search: /api/search beside Wagtail's stock database search on synthetic archives, with a raw FTS5 floor.

bench/search_bench.py builds the archive (bulk inserts into a throwaway SQLite file under var/bench/), times
`search_index rebuild`, and times both searches over its rotated terms; this part runs it per archive size, adds the
FTS5 MATCH floor on the same index and the same terms, and reports how rebuild time and latency grow with size.
"""

import ast
import json
import os
import re
import subprocess
import time

from bench.common import PROJECT_PYTHON, REPOSITORY, SCRATCH, Figure, PartResult, median, percentile, run_json, say

SCRIPT = REPOSITORY / "bench" / "search_bench.py"
FLOOR = REPOSITORY / "bench" / "fts5_floor.py"
GOAL_P95_MS = 50
SEARCH_BUDGET_SECONDS = int(os.environ.get("BENCH_SEARCH_BUDGET", "3600"))


def query_terms() -> list[str]:
    """The rotated terms search_bench.py uses, read from its source so the floor searches the same words."""
    tree = ast.parse(SCRIPT.read_text())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    english = values["ENGLISH"].func.value.value.split()
    terms = []
    for element in values["QUERIES"].elts:
        if isinstance(element, ast.Starred):
            terms += english[: element.value.slice.upper.value]
        else:
            terms.append(element.value)
    return terms


def archive_figures(stories: int, rounds: int, timeout: float) -> dict:
    """Run search_bench.py on one archive size; its output is Markdown, so read the numbers back out of it."""
    database = SCRATCH / f"search-{stories}.sqlite3"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "STORYARCHIVE_VAR_DIR": str(SCRATCH / "search-var"),
        "DJANGO_SETTINGS_MODULE": "storyarchive.settings.base",
    }
    completed = subprocess.run(
        [str(PROJECT_PYTHON), str(SCRIPT), "--stories", str(stories), "--rounds", str(rounds)],
        cwd=REPOSITORY,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    (SCRATCH / f"search-{stories}.log").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"search_bench.py --stories {stories} failed; see {SCRATCH / f'search-{stories}.log'}")
    output = completed.stdout

    def number(pattern: str) -> float | None:
        found = re.search(pattern, output)
        return float(found.group(1).replace(",", "")) if found else None

    rows = re.findall(r"^\| (/api/search|Wagtail stock)[^|]*\| ([\d.]+) \| ([\d.]+) \|$", output, re.MULTILINE)
    latency = {name: (float(p50), float(p95)) for name, p50, p95 in rows}
    floor = run_json([PROJECT_PYTHON, FLOOR, database, str(rounds), *query_terms()], timeout=600)["milliseconds"]
    return {
        "rebuild": number(r"search_index rebuild: \d+ stories in ([\d.]+) s"),
        "stock_index": number(r"Wagtail stock index of the same stories: ([\d.]+) s"),
        "built": number(r"built \d+ stories in ([\d.]+) s"),
        "ours": latency.get("/api/search"),
        "stock": latency.get("Wagtail stock"),
        "floor": (median(floor), percentile(floor, 0.95)),
    }


def run(*, quick: bool) -> PartResult:
    result = PartResult(part="search", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    sizes, rounds = ([2_000], 1) if quick else ([10_000, 100_000], 2)
    terms = query_terms()
    measured = {}
    deadline = time.monotonic() + SEARCH_BUDGET_SECONDS
    for stories in sizes:
        say(f"search: {stories:,} stories (builds the archive the first time)")
        try:
            figures = measured[stories] = archive_figures(stories, rounds, max(deadline - time.monotonic(), 60))
        except subprocess.TimeoutExpired:
            result.not_measured.append(
                f"{stories:,} stories: building, rebuilding and querying did not finish within the search budget "
                f"({SEARCH_BUDGET_SECONDS // 60} minutes, BENCH_SEARCH_BUDGET); search_bench.py prints its figures "
                "only at the end, so nothing partial was kept"
            )
            continue
        label = f"{stories:,} stories"
        samples = f"{len(terms)} terms x {rounds} rounds, after a warming round"
        for position, name in ((0, "p50"), (1, "p95")):
            ours = figures["ours"][position] if figures["ours"] else None
            stock = figures["stock"][position] if figures["stock"] else None
            goal = stories == 100_000 and name == "p95"
            result.figures.append(
                Figure(
                    f"Search, {label}",
                    f"/api/search {name} (facets, moments)",
                    "ms",
                    ours,
                    stock,
                    "Wagtail stock search + facet()",
                    1,
                    goal=f"under {GOAL_P95_MS} ms and no slower than stock" if goal else "",
                    goal_met=(ours is not None and stock is not None and ours < GOAL_P95_MS and ours <= stock)
                    if goal
                    else None,
                    note=samples if position == 0 else "",
                ),
            )
            result.figures.append(
                Figure(
                    f"Search, {label}",
                    f"raw FTS5 MATCH {name} (floor)",
                    "ms",
                    round(figures["floor"][position], 2),
                    ours,
                    "/api/search",
                    1,
                )
            )
        result.figures.append(
            Figure(
                f"Search, {label}",
                "search_index rebuild",
                "s",
                figures["rebuild"],
                figures["stock_index"],
                "Wagtail stock index add_bulk",
                1,
            )
        )
        if figures["built"] is not None:
            result.findings.append(
                f"Generating {label} with bulk inserts took {figures['built']:.0f} s (setup, not a figure)."
            )
    if len(measured) == 2 and all(figures["rebuild"] for figures in measured.values()):
        small, large = (measured[size] for size in sizes)
        result.figures.append(
            Figure(
                "Search, growth 10,000 -> 100,000",
                "rebuild time",
                "s",
                large["rebuild"],
                small["rebuild"],
                "at 10,000",
                1,
                note="a ratio of 10 is linear growth",
            )
        )
        if small["ours"] and large["ours"]:
            result.figures.append(
                Figure(
                    "Search, growth 10,000 -> 100,000",
                    "/api/search p95",
                    "ms",
                    large["ours"][1],
                    small["ours"][1],
                    "at 10,000",
                    1,
                )
            )
    for stories, figures in measured.items():
        if figures["ours"] and figures["stock"]:
            ours95, stock95, floor95 = figures["ours"][1], figures["stock"][1], figures["floor"][1]
            position = "ahead of" if ours95 <= stock95 else "behind"
            result.findings.append(
                f"{stories:,} stories: /api/search p95 {ours95:g} ms is {position} Wagtail's stock search "
                f"({stock95:g} ms), while also counting five facets with their own filters left out, finding up to 3 "
                f"moments per hit and applying the visibility rule again. The raw FTS5 MATCH floor is {floor95:.2f} ms: "
                "the rest is facet counting, moments and serialising JSON."
            )
    if quick:
        result.not_measured.append("the 10,000- and 100,000-story archives (quick run uses 2,000)")
    result.not_measured.append("PostgreSQL: this part runs on SQLite (FTS5) only")
    (SCRATCH / "search-figures.json").write_text(json.dumps({str(k): v for k, v in measured.items()}, indent=1))
    return result
