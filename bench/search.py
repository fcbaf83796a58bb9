"""Search: /api/search on SQLite's and PostgreSQL's database backend and on Elasticsearch, on synthetic archives.

bench/search_bench.py builds each archive (bulk inserts into a throwaway SQLite file under var/bench/, or into a
throwaway PostgreSQL database it creates and drops), times `search_index rebuild` in one process and the searches, for
themed words and for words found in most stories, in a fresh one, whose memory is then what a web process holds.
This part runs it per archive size and backend within a time budget (BENCH_SEARCH_BUDGET seconds): the 100,000-story
archive on all three backends, the database backend's growth, and Elasticsearch on the largest archive that fits.
"""

import json
import math
import os
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import (
    PROJECT_PYTHON,
    REPOSITORY,
    RESULTS,
    SCRATCH,
    Figure,
    PartResult,
    median,
    percentile,
    say,
    scratch_postgres,
)

SCRIPT = REPOSITORY / "bench" / "search_bench.py"
# Every figure the children wrote, kept so that `python -m bench.search --report` can write the report again.
MEASURED = SCRATCH / "search-measured.json"
GOAL_P95_MS = 50
# On PostgreSQL, for the words found in most stories, and for the first search of a new process.
GOAL_BROAD_P95_MS = 150
GOAL_FIRST_SEARCH_MS = 1000
GOAL_REBUILD_S = 15 * 60
GOAL_STORIES = 1_000_000
SEARCH_BUDGET_SECONDS = int(os.environ.get("BENCH_SEARCH_BUDGET", "3600"))
# Wagtail's stock search beside the PostgreSQL backend: indexing 100,000 stories with it takes minutes of the budget.
STOCK_ON_POSTGRES = os.environ.get("BENCH_SEARCH_STOCK", "1") != "0"
# Only the archive every database backend is compared on (SQLite and PostgreSQL): a shorter run.
COMPARED_ONLY = os.environ.get("BENCH_SEARCH_COMPARED_ONLY") == "1"
ELASTICSEARCH_URL = os.environ.get("BENCH_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
# The bench creates this database and drops it afterwards: its name must begin with "bench".
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/bench_search")
INDEX_PREFIX = "storyarchive-bench"
# The largest archive gets transcripts of 2 segments (28 words) instead of 10: with 10, building a million stories
# would take most of a bench run.
SHORT_SEGMENTS = 2
# The large archive is first built to this size and indexed once, to measure this machine's rates for it.
CALIBRATION_STORIES = 20_000
# A step starts only if its time predicted from the rates measured so far, times this, fits what is left.
SAFETY = 1.25
TERM_SETS = {
    "selective": "themed words",
    "unused": "themed words the rotation does not use",
    "broad": "words in most stories",
    "frequent": "content words in most stories",
}
AFTER_CHANGE = {
    "sqlite": "the process catches its columns up and reads each word's postings afresh",
    "postgresql": "the process catches its columns up and reads each word's postings afresh",
    "elasticsearch": "the change was indexed with a refresh, which opens a new searcher",
}


@dataclass(frozen=True)
class Plan:
    rounds: int
    small: int  # the database backend on SQLite only: the first step of its growth
    compared: int  # every backend
    growth: int  # the database backend on SQLite, if time is left
    large: tuple[int, ...]  # Elasticsearch on the largest of these that fits


FULL = Plan(rounds=2, small=10_000, compared=100_000, growth=300_000, large=(1_000_000, 500_000, 300_000, 200_000))
QUICK = Plan(rounds=1, small=1_000, compared=2_000, growth=3_000, large=(6_000, 4_000))


@dataclass(frozen=True)
class Setup:
    """One archive, in SQLite or PostgreSQL, searched through the database backend or Elasticsearch."""

    stories: int
    database: str = "sqlite"
    backend: str = "database"
    segments: int = 10

    @property
    def name(self) -> str:
        if self.backend == "elasticsearch":
            return "Elasticsearch"
        return f"{'PostgreSQL' if self.database == 'postgresql' else 'SQLite'} database backend"

    @property
    def key(self) -> str:
        return f"{self.stories}-{self.database}-{self.backend}-{self.segments}"

    @property
    def sqlite_file(self) -> Path:
        short = f"-{self.segments}-segments" if self.segments != 10 else ""
        return SCRATCH / f"search-{self.stories}{short}.sqlite3"

    @property
    def database_url(self) -> str:
        return POSTGRES_URL if self.database == "postgresql" else f"sqlite:///{self.sqlite_file}"

    @property
    def index_prefix(self) -> str:
        return f"{INDEX_PREFIX}-{self.stories}"


class OutOfTime(Exception):
    pass


class Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


def run_child(setup: Setup, arguments: list[str], budget: Budget, *, file_setup: Setup | None = None) -> dict:
    """Run search_bench.py once for this setup and read the JSON it writes; the archive may be a smaller setup's file
    grown in place (`file_setup`)."""
    file_setup = file_setup or setup
    output = SCRATCH / f"search-{setup.key}.json"
    log = SCRATCH / f"search-{setup.key}.log"
    env = {
        "DATABASE_URL": file_setup.database_url,
        "ELASTICSEARCH_URL": ELASTICSEARCH_URL if setup.backend == "elasticsearch" else "",
        "ELASTICSEARCH_INDEX_PREFIX": setup.index_prefix,
        "STORYARCHIVE_VAR_DIR": str(SCRATCH / "search-var"),
        "DJANGO_SETTINGS_MODULE": "storyarchive.settings.base",
        "ALLOWED_HOSTS": "testserver,localhost",
    }
    output.unlink(missing_ok=True)
    command = [str(PROJECT_PYTHON), str(SCRIPT), "--stories", str(setup.stories), "--segments", str(setup.segments)]
    command += [*arguments, "--json", str(output)]
    if budget.left() < 30:
        raise OutOfTime
    started = time.monotonic()
    with open(log, "a") as written:
        written.write(f"\n$ {' '.join(command)}\n")
        written.flush()
        try:
            completed = subprocess.run(
                command,
                cwd=REPOSITORY,
                env={**os.environ, **env},
                stdout=written,
                stderr=subprocess.STDOUT,
                timeout=budget.left(),
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise OutOfTime from error
    if completed.returncode != 0 or not output.exists():
        raise RuntimeError(f"search_bench.py for {setup.name} at {setup.stories:,} stories failed; see {log}")
    figures = json.loads(output.read_text())
    figures["phase_s"] = time.monotonic() - started
    return figures


def measure(setup: Setup, plan: Plan, budget: Budget, *, file_setup: Setup | None = None) -> dict:
    """Build (or grow) the archive and rebuild the index in one process, then search in a fresh one."""
    say(f"search: {setup.name}, {setup.stories:,} stories (builds the archive the first time)")
    # Wagtail's stock search is the peer on PostgreSQL: what a site that chose it and no Elasticsearch gets.
    stock = ["--stock"] if setup.database == "postgresql" and STOCK_ON_POSTGRES else []
    indexed = run_child(setup, ["--skip-searches", *stock], budget, file_setup=file_setup)
    searched = run_child(setup, ["--skip-rebuild", "--rounds", str(plan.rounds), *stock], budget, file_setup=file_setup)
    return {
        **indexed,
        **{key: value for key, value in searched.items() if key not in ("built_s", "phase_s")},
        "index_phase_s": indexed["phase_s"],
        "search_phase_s": searched["phase_s"],
    }


# Services ----------------------------------------------------------------------------------------------------------


def elasticsearch(method: str, path: str) -> dict:
    request = urllib.request.Request(f"{ELASTICSEARCH_URL.rstrip('/')}/{path.lstrip('/')}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def elasticsearch_answers() -> str | None:
    """None if the node answers green or yellow, else why not."""
    try:
        health = elasticsearch("GET", "_cluster/health")
    except (OSError, ValueError) as error:
        return f"no Elasticsearch answered at {ELASTICSEARCH_URL} ({error}); start one with `scripts/services elasticsearch`"
    if health.get("status") not in ("green", "yellow"):
        return f"the Elasticsearch cluster at {ELASTICSEARCH_URL} is {health.get('status')}"
    return None


def delete_bench_indices(setup: Setup) -> None:
    """The bench's story indices for this size, by name: Elasticsearch refuses to delete by wildcard."""
    try:
        found = elasticsearch("GET", f"_resolve/index/{setup.index_prefix}-stories-*")["indices"]
        for index in found:
            elasticsearch("DELETE", urllib.parse.quote(index["name"]))
    except (OSError, ValueError) as error:
        say(f"search: could not delete the index {setup.index_prefix}-stories-*: {error}")


def postgres_database(action: str) -> str | None:
    """Create or drop the search bench's PostgreSQL database; None on success, else why not."""
    return scratch_postgres(POSTGRES_URL, action)


# Predictions -------------------------------------------------------------------------------------------------------


def predicted_seconds(stories: int, *, built: int, build_rate: float, rebuild_rate: float, searching: float) -> float:
    """Build the stories the archive lacks, rebuild the whole index, search, and start the two processes."""
    return SAFETY * ((stories - built) / build_rate + stories / rebuild_rate + searching + 20)


def build_rate(measured: dict, like: "Setup") -> float:
    """Stories a second, from archives built in this run in the same database with transcripts of the same length;
    unknown is infinite."""
    found = [
        figures["stories"] / figures["built_s"]
        for setup, figures in measured.items()
        if (setup.database, setup.segments) == (like.database, like.segments) and figures["built_s"]
    ]
    return min(found) if found else math.inf


def rebuild_rate(figures: dict) -> float:
    return figures["indexed"] / figures["rebuild_s"]


# Running -----------------------------------------------------------------------------------------------------------


def run(*, quick: bool) -> PartResult:
    """The 100,000-story archive on every backend, then Elasticsearch large and the growth, as the budget allows."""
    result = PartResult(part="search", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    plan = QUICK if quick else FULL
    budget = Budget(SEARCH_BUDGET_SECONDS)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    measured: dict[Setup, dict] = {}

    def attempt(setup: Setup, **options) -> dict | None:
        try:
            measured[setup] = measure(setup, plan, budget, **options)
        except OutOfTime:
            result.not_measured.append(
                f"{setup.name}, {setup.stories:,} stories: did not finish within the search budget "
                f"({budget.seconds / 60:.0f} minutes, BENCH_SEARCH_BUDGET); nothing partial was kept"
            )
            return None
        except RuntimeError as error:
            result.not_measured.append(f"{setup.name}, {setup.stories:,} stories: {error}")
            return None
        return measured[setup]

    sqlite_small = Setup(plan.small)
    sqlite_compared = Setup(plan.compared)
    elastic_compared = Setup(plan.compared, backend="elasticsearch")
    postgres_compared = Setup(plan.compared, database="postgresql")
    if COMPARED_ONLY:
        result.not_measured.append(
            f"the SQLite database backend at {plan.small:,} and {plan.growth:,} stories and Elasticsearch: this run "
            f"measured only the {plan.compared:,}-story archive on both databases (BENCH_SEARCH_COMPARED_ONLY=1)"
        )
    else:
        attempt(sqlite_small)
    attempt(sqlite_compared)
    elastic_down = "not asked (BENCH_SEARCH_COMPARED_ONLY=1)" if COMPARED_ONLY else elasticsearch_answers()
    if elastic_down:
        if not COMPARED_ONLY:
            result.not_measured.append(f"Elasticsearch: {elastic_down}")
    else:
        try:
            attempt(elastic_compared)
        finally:
            delete_bench_indices(elastic_compared)
    postgres_down = postgres_database("create")
    if postgres_down:
        result.not_measured.append(f"PostgreSQL's database backend: {postgres_down}")
    else:
        try:
            attempt(postgres_compared)
        finally:
            postgres_database("drop")
    large = None
    if not elastic_down:
        large = run_large(plan, budget, result, attempt, measured)
    if not COMPARED_ONLY:
        run_growth(plan, budget, result, attempt, measured)
    result.not_measured.append(
        "Wagtail's stock search beside ours on SQLite: left out to give the budget to Elasticsearch and PostgreSQL "
        "(when last measured, on 2026-11-28, 46 of its 52 searches at 100,000 stories ran past 10 s); "
        "`bench/search_bench.py --stock` measures it. On PostgreSQL it is measured, once per word"
        + ("" if STOCK_ON_POSTGRES else ", unless BENCH_SEARCH_STOCK=0, as in this run")
    )
    result.not_measured.append(
        "search while the worker transcribes, on these archives: this part has no such mode; the sharing part "
        "measures /api/search p95 while transcribing against idle, on SQLite and PostgreSQL (the demo archive)"
    )
    if quick:
        result.not_measured.append(
            f"the full run's archives (quick run: {plan.small:,}, {plan.compared:,}, {plan.growth:,} and "
            f"{', '.join(f'{size:,}' for size in plan.large)} stories)"
        )
    MEASURED.write_text(
        json.dumps(
            {
                "quick": quick,
                "started": result.started,
                "findings": result.findings,
                "not_measured": result.not_measured,
                "large": asdict(large) if large else None,
                "measured": [{"setup": asdict(setup), "figures": figures} for setup, figures in measured.items()],
            },
            indent=1,
        )
    )
    report(result, plan, measured, large)
    return result


def report_again() -> None:
    """Write the report again from the figures the last run kept, after a change to how they are reported."""
    from bench.report import print_table, write_document

    kept = json.loads(MEASURED.read_text())
    result = PartResult(
        part="search",
        quick=kept["quick"],
        started=kept["started"],
        findings=kept["findings"],
        not_measured=kept["not_measured"],
    )
    previous = PartResult.load(RESULTS / "search.json")
    if previous.started == result.started:
        result.seconds, result.machine_load = previous.seconds, previous.machine_load
    measured = {Setup(**item["setup"]): item["figures"] for item in kept["measured"]}
    report(result, QUICK if kept["quick"] else FULL, measured, Setup(**kept["large"]) if kept["large"] else None)
    result.save()
    print_table(result)
    say(f"wrote {write_document()}")


def run_large(plan: Plan, budget: Budget, result: PartResult, attempt, measured) -> Setup | None:
    """Elasticsearch on the largest archive of plan.large that the budget leaves room for, built in one SQLite file:
    first to CALIBRATION_STORIES, indexed once to measure the rates, then grown to the size chosen."""
    calibration = Setup(
        min(CALIBRATION_STORIES, min(plan.large) // 2), backend="elasticsearch", segments=SHORT_SEGMENTS
    )
    grown = {size: Setup(size, backend="elasticsearch", segments=SHORT_SEGMENTS) for size in plan.large}
    file_setup = calibration
    # Always built afresh, so the calibration measures building, and removed afterwards: at a million stories the
    # file takes gigabytes.
    archive = calibration.sqlite_file
    for leftover in archive.parent.glob(archive.name + "*"):
        leftover.unlink()
    say(f"search: calibrating on {calibration.stories:,} stories with short transcripts")
    try:
        calibrated = run_child(calibration, ["--skip-searches"], budget)
    except (OutOfTime, RuntimeError) as error:
        result.not_measured.append(f"Elasticsearch on a large archive: calibration failed ({error or 'out of time'})")
        return None
    finally:
        delete_bench_indices(calibration)
    built_rate, indexing_rate = build_rate({calibration: calibrated}, calibration), rebuild_rate(calibrated)
    compared = measured.get(Setup(plan.compared, backend="elasticsearch"))
    searching = compared["search_phase_s"] if compared else 120
    chosen, predictions = None, {}
    for size in sorted(plan.large, reverse=True):
        predictions[size] = predicted_seconds(
            size,
            built=calibrated["stories"],
            build_rate=built_rate,
            rebuild_rate=indexing_rate,
            # Searches on Elasticsearch read postings and aggregate the matches; the square root of the growth is a
            # margin, not a model.
            searching=searching * math.sqrt(size / plan.compared),
        )
        if predictions[size] <= budget.left():
            chosen = grown[size]
            break
    left = budget.left()
    say(
        f"search: {left / 60:.0f} minutes left; predicted for Elasticsearch: "
        + ", ".join(f"{size:,} stories {seconds / 60:.0f} min" for size, seconds in predictions.items())
    )
    result.findings.append(
        f"Choosing the large archive: building short-transcript stories ran at {built_rate:,.0f} stories/s and "
        f"Elasticsearch's rebuild at {indexing_rate:,.0f} stories/s on {calibration.stories:,} stories; with "
        f"{left / 60:.0f} minutes of the budget left, the predicted times (x{SAFETY} for safety) were "
        + ", ".join(f"{size:,} stories {seconds / 60:.0f} min" for size, seconds in predictions.items())
        + (f", so {chosen.stories:,} stories were measured." if chosen else ", so none was measured.")
    )
    if chosen is None:
        result.not_measured.append(
            f"Elasticsearch at {', '.join(f'{size:,}' for size in plan.large)} stories: none fitted the "
            f"{left / 60:.0f} minutes left of the search budget (BENCH_SEARCH_BUDGET)"
        )
        return None
    if chosen.stories < max(plan.large):
        result.not_measured.append(
            f"Elasticsearch at {max(plan.large):,} stories: building and indexing them was predicted to take "
            f"{predictions[max(plan.large)] / 60:.0f} minutes, more than the {left / 60:.0f} left of the search "
            f"budget; {chosen.stories:,} stories were measured instead"
        )
    try:
        attempt(chosen, file_setup=file_setup)
    finally:
        delete_bench_indices(chosen)
        for leftover in archive.parent.glob(archive.name + "*"):
            leftover.unlink()
    return chosen if chosen in measured else None


def run_growth(plan: Plan, budget: Budget, result: PartResult, attempt, measured) -> None:
    """The database backend on SQLite at plan.growth stories, if the rates at plan.compared say it fits."""
    compared = measured.get(Setup(plan.compared))
    setup = Setup(plan.growth)
    if compared is None:
        result.not_measured.append(f"SQLite database backend, {plan.growth:,} stories: no smaller archive to grow from")
        return
    built_rate, indexing_rate = build_rate(measured, setup), rebuild_rate(compared)
    predicted = predicted_seconds(
        plan.growth,
        built=0,
        build_rate=built_rate,
        rebuild_rate=indexing_rate,
        searching=compared["search_phase_s"] * plan.growth / plan.compared,
    )
    if predicted > budget.left():
        result.not_measured.append(
            f"SQLite database backend, {plan.growth:,} stories: predicted to take {predicted / 60:.0f} minutes "
            f"(building at {built_rate:,.0f} stories/s and rebuilding at {indexing_rate:,.0f} stories/s as at "
            f"{plan.compared:,}, then searching), with {budget.left() / 60:.0f} minutes of the search budget left"
        )
        return
    attempt(setup)


# Reporting ---------------------------------------------------------------------------------------------------------


def p50_p95(samples: list[float] | None) -> tuple[float, float] | None:
    return (round(median(samples), 1), round(percentile(samples, 0.95), 1)) if samples else None


def report(result: PartResult, plan: Plan, measured: dict, large: Setup | None) -> None:
    baseline = {setup.stories: figures for setup, figures in measured.items() if setup == Setup(setup.stories)}
    for setup, figures in sorted(measured.items(), key=lambda item: (item[0].stories, item[0].name)):
        peer = baseline.get(setup.stories) if setup != Setup(setup.stories) else None
        report_setup(result, plan, setup, figures, peer)
    report_goals(result, plan, measured, large)
    if compared := measured.get(Setup(plan.compared)):
        grown = max(setup.stories for setup in measured if setup == Setup(setup.stories))
        result.not_measured.append(
            f"the database backend at {max(plan.large):,} stories: one bench run cannot also build that archive in "
            f"SQLite and index it there (at the rate measured at {plan.compared:,}, "
            f"{rebuild_rate(compared):,.0f} stories/s, the rebuild alone would take about "
            f"{max(plan.large) / rebuild_rate(compared) / 60:.0f} minutes); its growth is measured from "
            f"{plan.small:,} to {grown:,} stories instead"
        )
    report_growth(result, plan, measured, large)
    report_findings(result, plan, measured, large)


def latency(figures: dict, term_set: str, engine: str = "ours") -> tuple[float, float] | None:
    return p50_p95(figures.get(term_set, {}).get("ms", {}).get(engine))


def report_setup(result: PartResult, plan: Plan, setup: Setup, figures: dict, peer: dict | None) -> None:
    label = f"Search, {setup.stories:,} stories, {setup.name}"
    peer_name = "SQLite database backend"
    for term_set, described in TERM_SETS.items():
        found = figures[term_set]
        ours, theirs = latency(figures, term_set), latency(peer, term_set) if peer else None
        changed, floor = latency(figures, term_set, "ours_after_change"), latency(figures, term_set, "floor")
        shares = sorted(found["matched"].values())
        samples = (
            f"{len(found['terms'])} {described} x {plan.rounds} rounds after a warming round; each word in "
            f"{shares[0]:.1%}-{shares[-1]:.1%} of the stories"
        )
        stock = latency(figures, term_set, "stock")
        waited = found.get("database_ms")
        for position, name in ((0, "p50"), (1, "p95")):
            goal = search_goal(plan, setup, term_set) if name == "p95" else None
            note = samples
            if waited:
                note += (
                    f"; of each search a median {median(waited):.1f} ms waiting on the database, in "
                    f"{median(found['database_queries']):.0f} queries"
                )
            result.figures.append(
                Figure(
                    label,
                    f"/api/search {name}, {described} (facets, moments)",
                    "ms",
                    ours[position],
                    theirs[position] if theirs else None,
                    peer_name if theirs else "",
                    1,
                    goal=f"under {goal} ms" if goal else "",
                    goal_met=ours[1] < goal if goal else None,
                    note=note if position == 0 else "",
                )
            )
            if stock:
                capped = [term for term in figures[term_set]["ms"].get("capped", []) if term in found["terms"]]
                result.figures.append(
                    Figure(
                        label,
                        f"/api/search {name}, {described}, against Wagtail's stock search",
                        "ms",
                        ours[position],
                        stock[position],
                        "Wagtail's stock database search (20 hits, one facet)",
                        1,
                        note=(
                            f"the stock search once per word; {len(capped)} stopped at "
                            f"{figures.get('stock_cap_s', 10):g} s and counted at that"
                        )
                        if position == 0
                        else "",
                    )
                )
            if changed:
                result.figures.append(
                    Figure(
                        label,
                        f"/api/search {name}, {described}, first search after an index change",
                        "ms",
                        changed[position],
                        ours[position],
                        "/api/search",
                        1,
                        note=AFTER_CHANGE[setup.database if setup.backend == "database" else setup.backend]
                        if position == 0
                        else "",
                    )
                )
            if floor:
                result.figures.append(
                    Figure(
                        label,
                        f"raw FTS5 MATCH ranked by bm25() {name}, {described}",
                        "ms",
                        floor[position],
                        ours[position],
                        "/api/search",
                        1,
                    )
                )
    rebuild_note = (
        f"{figures['rebuild_reading_s']:.0f} s of it reading the stories from the database; "
        f"{figures['rebuild_cpu_s']:.0f} s of CPU in the rebuilding process"
        + (
            f", {figures['rebuild_node_cpu_s']:.0f} s in the Elasticsearch node"
            if figures.get("rebuild_node_cpu_s") is not None
            else ""
        )
        + (f"; transcripts of {setup.segments} segments" if setup.segments != 10 else "")
    )
    result.figures += [
        Figure(
            label,
            "search_index rebuild",
            "s",
            round(figures["rebuild_s"], 1),
            round(peer["rebuild_s"], 1) if peer else None,
            peer_name if peer else "",
            1,
            note=rebuild_note,
        ),
        Figure(
            label,
            "search_index rebuild, stories per second",
            "stories/s",
            round(figures["indexed"] / figures["rebuild_s"]),
            round(peer["indexed"] / peer["rebuild_s"]) if peer else None,
            peer_name if peer else "",
            1,
            lower_is_better=False,
        ),
    ]
    if (first := figures.get("first_search_ms")) is not None:
        goal = setup.database == "postgresql" and setup.backend == "database" and setup.stories == plan.compared
        result.figures.append(
            Figure(
                label,
                "first /api/search in a new process",
                "ms",
                round(first),
                round(peer["first_search_ms"]) if peer and peer.get("first_search_ms") is not None else None,
                peer_name if peer else "",
                1,
                goal=f"under {GOAL_FIRST_SEARCH_MS / 1000:g} s" if goal else "",
                goal_met=first < GOAL_FIRST_SEARCH_MS if goal else None,
                note=f"Django set up, nothing loaded: it loads the index's columns; "
                f"{figures['first_search_database_ms']:.0f} ms of it waiting on the database",
            )
        )
    before, after = figures["memory_before_searches"], figures["memory_after_searches"]
    result.figures.append(
        Figure(
            label,
            "web process memory after the searches (RSS)",
            "MB",
            round(after["rss_mb"]),
            round(peer["memory_after_searches"]["rss_mb"]) if peer else None,
            peer_name if peer else "",
            1,
            note=f"{after['rss_mb'] - before['rss_mb']:.0f} MB of it taken by the searches; peak {after['peak_mb']:.0f} MB",
        )
    )
    if node := figures.get("node"):
        result.figures += [
            Figure(
                label,
                "Elasticsearch heap used after the searches",
                "MB",
                round(node["heap_used_mb"]),
                note=f"of a {node['heap_max_mb']:.0f} MB heap; the heap is collected in waves, so this moves from "
                "reading to reading",
            ),
            Figure(
                label,
                "story index on disk",
                "MB",
                round(node["index_mb"]),
                note=f"{node['lucene_documents']:,} Lucene documents: a story and each of its segments",
            ),
        ]
    if figures["built_s"] is not None:
        result.findings.append(
            f"Generating {setup.stories:,} stories for {setup.name} with bulk inserts took {figures['built_s']:.0f} s "
            "(setup, not a figure)."
        )


def search_goal(plan: Plan, setup: Setup, term_set: str) -> int | None:
    """The p95 goal in ms for a term set on this setup, if it has one: on the database backend at the compared size,
    the themed words on both databases; on PostgreSQL also the words the rotation does not use, and the content words
    in most stories (its stop words leave the function words matching almost nothing there)."""
    if setup.backend != "database" or setup.stories != plan.compared:
        return None
    if term_set == "selective":
        return GOAL_P95_MS
    if setup.database == "postgresql":
        return {"unused": GOAL_P95_MS, "frequent": GOAL_BROAD_P95_MS}.get(term_set)
    return None


def report_goals(result: PartResult, plan: Plan, measured: dict, large: Setup | None) -> None:
    """The two goals for Elasticsearch at a million stories, judged on the largest archive measured."""
    figures = measured.get(large) if large else None
    label = f"Search, {GOAL_STORIES:,} stories, Elasticsearch"
    if figures and large.stories == GOAL_STORIES:
        p95 = latency(figures, "selective")[1]
        rebuild = figures["rebuild_s"]
        for figure in result.figures:
            if figure.benchmark == label and figure.measure == "/api/search p95, themed words (facets, moments)":
                figure.goal, figure.goal_met = f"under {GOAL_P95_MS} ms", p95 < GOAL_P95_MS
            if figure.benchmark == label and figure.measure == "search_index rebuild":
                figure.goal, figure.goal_met = f"under {GOAL_REBUILD_S // 60} minutes", rebuild < GOAL_REBUILD_S
        return
    # Not measured at a million: a goal is judged missed only when a smaller archive already misses it, since
    # neither the rebuild nor the latency shrinks as the archive grows.
    p95 = latency(figures, "selective")[1] if figures else None
    rebuild = figures["rebuild_s"] if figures else None
    size = f"{large.stories:,}" if figures else ""
    result.figures += [
        Figure(
            label,
            "/api/search p95, themed words (facets, moments)",
            "ms",
            None,
            goal=f"under {GOAL_P95_MS} ms",
            goal_met=False if p95 is not None and p95 >= GOAL_P95_MS else None,
            note=f"not measured at {GOAL_STORIES:,}; {p95:g} ms at {size} stories" if p95 is not None else "",
        ),
        Figure(
            label,
            "search_index rebuild",
            "s",
            None,
            goal=f"under {GOAL_REBUILD_S // 60} minutes",
            goal_met=False if rebuild is not None and rebuild >= GOAL_REBUILD_S else None,
            note=(
                f"not measured at {GOAL_STORIES:,}; {rebuild:.0f} s at {size} stories "
                f"({figures['indexed'] / rebuild:,.0f} stories/s)"
            )
            if rebuild is not None
            else "",
        ),
    ]


def report_growth(result: PartResult, plan: Plan, measured: dict, large: Setup | None) -> None:
    """How rebuild time and p95 grow with the archive, each backend against its own smallest archive."""
    series = {
        "SQLite database backend": [Setup(size) for size in (plan.small, plan.compared, plan.growth)],
        "Elasticsearch": [Setup(plan.compared, backend="elasticsearch"), *([large] if large else [])],
    }
    for name, setups in series.items():
        found = [setup for setup in setups if setup in measured]
        if len(found) < 2:
            continue
        first = found[0]
        for later in found[1:]:
            benchmark = f"Search, growth {first.stories:,} -> {later.stories:,}, {name}"
            small, big = measured[first], measured[later]
            result.figures.append(
                Figure(
                    benchmark,
                    "rebuild time",
                    "s",
                    round(big["rebuild_s"], 1),
                    round(small["rebuild_s"], 1),
                    f"at {first.stories:,}",
                    1,
                    note=f"a ratio of {later.stories / first.stories:g} is linear growth"
                    + (
                        f"; the larger archive's transcripts have {later.segments} segments, the smaller's "
                        f"{first.segments}"
                        if later.segments != first.segments
                        else ""
                    ),
                )
            )
            for term_set, described in TERM_SETS.items():
                result.figures.append(
                    Figure(
                        benchmark,
                        f"/api/search p95, {described}",
                        "ms",
                        latency(big, term_set)[1],
                        latency(small, term_set)[1],
                        f"at {first.stories:,}",
                        1,
                    )
                )


def by_share(figures: dict, term_set: str = "selective") -> tuple[float | None, float | None]:
    """The median time of the words found in under 5% of the stories, and of those found in 20% or more: how a
    backend's time follows the number of stories a word matches."""
    terms, samples = figures[term_set]["terms"], figures[term_set]["ms"]["ours"]
    # measure() takes the terms in turn, round after round.
    per_term = {term: median(samples[position :: len(terms)]) for position, term in enumerate(terms)}
    shares = figures[term_set]["matched"]
    rare = [ms for term, ms in per_term.items() if shares[term] < 0.05]
    common = [ms for term, ms in per_term.items() if shares[term] >= 0.2]
    return (round(median(rare), 1) if rare else None, round(median(common), 1) if common else None)


def report_findings(result: PartResult, plan: Plan, measured: dict, large: Setup | None) -> None:
    """Where each backend is ahead and why, in numbers from this run."""
    sqlite = measured.get(Setup(plan.compared))
    elastic = measured.get(Setup(plan.compared, backend="elasticsearch"))
    postgres = measured.get(Setup(plan.compared, database="postgresql"))
    size = f"{plan.compared:,} stories"

    def p95(figures: dict, term_set: str = "selective") -> float:
        return latency(figures, term_set)[1]

    def versus(ours: float, theirs: float) -> str:
        return f"{theirs / ours:.1f}x as fast as" if ours <= theirs else f"{ours / theirs:.1f}x as slow as"

    def share(figures: dict, term_set: str) -> float:
        return median(list(figures[term_set]["matched"].values()))

    def following(figures: dict) -> str:
        rare, common = by_share(figures)
        return (
            f"the themed words found in under 5% of the stories took a median of {rare:g} ms, those found in 20% "
            f"or more {common:g} ms"
        )

    def following_briefly(figures: dict) -> str:
        rare, common = by_share(figures)
        return f"{rare:g} and {common:g} ms"

    def rebuild(figures: dict) -> str:
        node = figures.get("rebuild_node_cpu_s")
        return (
            f"{figures['rebuild_s']:.0f} s, {rebuild_rate(figures):,.0f} stories/s; "
            f"{figures['rebuild_reading_s'] / figures['rebuild_s']:.0%} of it reading the stories through the "
            f"selector, and the rebuilding process busy on one core {figures['rebuild_cpu_s'] / figures['rebuild_s']:.0%}"
            " of the time" + (f", the node {node:.0f} s of CPU" if node is not None else "")
        )

    def against(figures: dict, baseline: dict) -> str:
        return ", ".join(
            f"{described} p95 {p95(figures, term_set):g} ms against {p95(baseline, term_set):g} ms"
            for term_set, described in TERM_SETS.items()
        )

    if sqlite and elastic:
        lines = against(elastic, sqlite)
        result.findings.append(
            f"Elasticsearch against SQLite's database backend at {size}: {lines}; Elasticsearch is "
            f"{versus(p95(elastic), p95(sqlite))} the database backend on the themed words. The database backend "
            "answers inside the web process, with no network hop and no response to decode: plain words are scored "
            "from postings the process keeps, and the five facets are counted over arrays it holds. Elasticsearch "
            "answers over HTTP from its own process; it scores and counts every matching story (the total is exact) "
            "and counts the five facets with aggregations over them, and it sends up to 100 matching segments per "
            "hit as nested inner hits, which the web process decodes before it picks the moments. From the themed "
            f"words to the words in most stories, p95 grows {p95(elastic, 'broad') / p95(elastic):.1f}x on "
            f"Elasticsearch and {p95(sqlite, 'broad') / p95(sqlite):.1f}x on the database backend, which ranks a word "
            "too common to read its postings with FTS5's bm25() over every matching story."
        )
        node = elastic["node"]
        result.findings.append(
            f"Memory at {size}: after the searches the web process holds "
            f"{sqlite['memory_after_searches']['rss_mb']:.0f} MB on SQLite's database backend, "
            f"{sqlite['memory_after_searches']['rss_mb'] - sqlite['memory_before_searches']['rss_mb']:.0f} MB of it "
            "taken by searching (its columns, the postings it keeps and SQLite's page cache: every web process "
            f"holds its own), and {elastic['memory_after_searches']['rss_mb']:.0f} MB on Elasticsearch "
            f"({elastic['memory_after_searches']['rss_mb'] - elastic['memory_before_searches']['rss_mb']:.0f} MB "
            f"taken by searching). The Elasticsearch node had {node['heap_used_mb']:.0f} MB of its "
            f"{node['heap_max_mb']:.0f} MB heap in use, and its {node['index_mb']:.0f} MB index is read through the "
            "file-system cache, outside the heap."
        )
        result.findings.append(
            f"Rebuilding {size}: into SQLite {rebuild(sqlite)}; into Elasticsearch {rebuild(elastic)}. Both "
            "read the stories through the same selector and stem every word in Python; the Elasticsearch backend "
            "then waits for each bulk request of 500 stories before it prepares the next, so the node and the "
            "rebuilding process mostly take turns."
        )
    if sqlite and postgres:
        lines = against(postgres, sqlite)

        def waited(figures: dict, term_set: str) -> str:
            found = figures[term_set]
            return (
                f"{median(found['database_ms']):.1f} ms of a {latency(figures, term_set)[0]:g} ms median in "
                f"{median(found['database_queries']):.0f} queries"
            )

        stock = latency(postgres, "selective", "stock")
        result.findings.append(
            f"PostgreSQL's database backend against SQLite's at {size}: {lines}; rebuild {rebuild(postgres)}. "
            "Both backends now answer the same way: plain words are matched and scored in the web process from their "
            "postings (on PostgreSQL one entry per story and word, read from the postings table's primary key alone "
            "and kept by the process until the index changes), the total and the five facets are counted over the "
            "arrays it holds, and the database is asked only for the page: the visibility rule on its twenty "
            "stories, asked story by story so that every lookup is by that story's id, what the hits show, and "
            "their transcript segments. Where the time goes on PostgreSQL: waiting on the database "
            f"{waited(postgres, 'selective')} for the themed words, {waited(postgres, 'frequent')} for the content "
            f"words in most stories (on SQLite {waited(sqlite, 'selective')}); the rest is the web process. By the "
            f"number of matches: {following(postgres)} (on SQLite {following_briefly(sqlite)}). The first search of "
            "a new process took "
            f"{postgres['first_search_ms']:.0f} ms on PostgreSQL ({postgres['first_search_database_ms']:.0f} ms of "
            f"it in the database, reading the columns from a covering index a column at a time) and "
            f"{sqlite['first_search_ms']:.0f} ms on SQLite. The rebuild writes each story's postings beside its "
            "tsvectors, then VACUUMs and ANALYZEs the index's tables and the rule's."
            + (
                f" Wagtail's stock PostgreSQL search, the peer a site gets out of the box (20 hits and one facet, "
                f"no moments), took p50 {stock[0]:g} and p95 {stock[1]:g} ms on the themed words, "
                f"{latency(postgres, 'frequent', 'stock')[1]:g} ms p95 on the content words in most stories: it "
                "ranks every match with ts_rank in the database."
                if stock
                else ""
            )
            + (
                f" PostgreSQL's english configuration drops stop words, so the words in most stories find a median "
                f"{share(postgres, 'broad'):.1%} of the stories there against {share(sqlite, 'broad'):.1%} on SQLite: "
                "their figures are not comparable, and the content words in most stories (a median "
                f"{share(postgres, 'frequent'):.1%} on PostgreSQL, {share(sqlite, 'frequent'):.1%} on SQLite) "
                "stand in for them."
                if share(postgres, "broad") < share(sqlite, "broad") / 2
                else ""
            )
        )
    figures = measured.get(large) if large else None
    if figures:
        wanted_rate = GOAL_STORIES / GOAL_REBUILD_S
        result.findings.append(
            f"Elasticsearch at {large.stories:,} stories (transcripts of {large.segments} segments): themed words "
            f"p50 {latency(figures, 'selective')[0]:g} ms and p95 {p95(figures):g} ms "
            f"({'under' if p95(figures) < GOAL_P95_MS else 'over'} the goal's {GOAL_P95_MS} ms), words in most "
            f"stories p95 {p95(figures, 'broad'):g} ms, content words in most stories p95 "
            f"{p95(figures, 'frequent'):g} ms; heap in use {figures['node']['heap_used_mb']:.0f} of "
            f"{figures['node']['heap_max_mb']:.0f} MB, index on disk {figures['node']['index_mb']:,.0f} MB. "
            "Elasticsearch scores, counts and aggregates every matching story, and here that work shows: "
            f"{following(figures)}"
            + (f" (at {plan.compared:,} stories, {following_briefly(elastic)})" if elastic else "")
            + (
                "; the goal is missed on the themed words found in the most stories, each in up to "
                f"{max(figures['selective']['matched'].values()):.0%} of the stories (with transcripts this short a themed "
                "word is found in fewer stories than in the smaller archives)."
                if p95(figures) >= GOAL_P95_MS
                else "."
            )
        )
        result.findings.append(
            f"Rebuilding {large.stories:,} stories into Elasticsearch: {figures['rebuild_s'] / 60:.1f} minutes "
            f"({rebuild(figures)}). A million stories in {GOAL_REBUILD_S // 60} minutes needs {wanted_rate:,.0f} "
            "stories/s"
            + (
                f", {wanted_rate / rebuild_rate(figures):.1f}x the rate measured. The rebuilding process, one Python "
                "process that reads, stems and serialises the stories, was busy "
                f"{figures['rebuild_cpu_s'] / figures['rebuild_s']:.0%} of the time, so a faster node, more nodes or "
                "a larger heap could shorten only the rest."
                if rebuild_rate(figures) < wanted_rate
                else f", which the measured rate exceeds by {rebuild_rate(figures) / wanted_rate - 1:.0%}"
            )
            + (
                f", with transcripts of {large.segments} segments. With 10, the rate at "
                f"{plan.compared:,} stories was {rebuild_rate(elastic):,.0f} stories/s, at which a million would take "
                f"about {GOAL_STORIES / rebuild_rate(elastic) / 60:.0f} minutes."
                if elastic and large.segments != 10
                else "."
            )
        )
    if sqlite and elastic:
        report_choice(result, plan, sqlite, elastic, postgres, large, figures)


def report_choice(result: PartResult, plan: Plan, sqlite, elastic, postgres, large, figures) -> None:
    """One paragraph for an operator choosing a backend, from the comparisons above."""
    backends = {"SQLite's database backend": sqlite, "Elasticsearch": elastic}
    if postgres:
        backends["PostgreSQL's database backend"] = postgres

    def compared(term_set: str) -> dict:
        # A term set that finds under half as many stories on a backend (stop words) is not compared there.
        most = max(median(list(f[term_set]["matched"].values())) for f in backends.values())
        return {name: f for name, f in backends.items() if median(list(f[term_set]["matched"].values())) >= most / 2}

    answers = []
    for term_set, described in TERM_SETS.items():
        candidates = compared(term_set)
        name = min(candidates, key=lambda n: latency(candidates[n], term_set)[1])
        answers.append(f"{name} answers the {described} fastest (p95 {latency(candidates[name], term_set)[1]:g} ms)")
    slowest = max(backends, key=lambda name: latency(backends[name], "selective")[1])
    answers.append(
        f"{slowest} answers the themed words slowest (p95 {latency(backends[slowest], 'selective')[1]:g} ms)"
    )
    rebuilds = min(backends, key=lambda name: backends[name]["rebuild_s"])
    growth = {name: latency(f, "broad")[1] / latency(f, "selective")[1] for name, f in compared("broad").items()}
    text = (
        f"Choosing, from this run at {plan.compared:,} stories: {'; '.join(answers)}; {rebuilds} rebuilds fastest "
        f"({rebuild_rate(backends[rebuilds]):,.0f} stories/s). From the themed words to the words in most stories, "
        "p95 grows "
        + ", ".join(f"{ratio:.1f}x on {name}" for name, ratio in growth.items())
        + ". The database backend needs nothing beside the web process and the database, but every web process "
        "keeps its own in-memory copy of the index's columns (and on SQLite its postings); Elasticsearch is one more "
        f"service, a JVM with its own heap ({elastic['node']['heap_used_mb']:.0f} MB in use at {plan.compared:,} "
        "stories)"
    )
    if figures and large:
        text += (
            f", and the backend measured here at {large.stories:,} stories (p95 "
            f"{latency(figures, 'selective')[1]:g} ms on the themed words, a rebuild of "
            f"{figures['rebuild_s'] / 60:.1f} minutes)"
        )
    result.findings.append(text + ".")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--report"]:
        sys.exit("usage: python -m bench.search --report  (to measure: python -m bench search)")
    report_again()
