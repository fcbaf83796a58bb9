"""Insights at archive scale: /insights/ and /api/insights beside /api/search of the same filter, at 100,000 stories
on SQLite and on PostgreSQL; then /api/search while the listening beacon records 1,000 plays a second.

The archives are copies of the pages bench's (bench/pages.py builds and keeps them): var/bench/insights-<size>.sqlite3
and the bench_insights_<size> PostgreSQL database, made once and kept, because this part writes into them (plays,
the worker's batches) and the pages archives are read by others. bench/insights_child.py times the addresses in a
process of its own. Goals (issue 16): p95 under 200 ms for both insights addresses, for any filter; search p95 with
the plays at most 1.2x without.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request

from bench.common import (
    PROJECT_PYTHON,
    REPOSITORY,
    SCRATCH,
    Figure,
    PartResult,
    median,
    percentile,
    run_json,
    say,
)
from bench.pages import POSTGRES_SERVER
from bench.pages import database_url as pages_database_url
from bench.sharing import search_latencies
from bench.site import Site, beacon_server, gunicorn, transcription_worker

CHILD = REPOSITORY / "bench" / "insights_child.py"
BEACON_SCRIPT = REPOSITORY / "bench" / "wrk_beacon.lua"
VENDORS = ("SQLite", "PostgreSQL")
GOAL_MS = 200
PLAYS_PER_SECOND = 1000
PLAYS_GOAL_RATIO = 1.2
BEACON_CONNECTIONS = 20
BEACON_THREADS = 2
BEACON_WARM_SECONDS = 5
# Search without plays and with them, alternately, this many times; each time wrk is given this long to reach its rate.
PLAYS_ROUNDS = 5
PLAYS_RAMP_SECONDS = 1.5
CACHE_URL = os.environ.get("BENCH_INSIGHTS_CACHE_URL", "redis://127.0.0.1:6379/12")
INSIGHTS = ("/insights/", "/api/insights")
SEARCH = "/api/search"


def database_url(vendor: str, stories: int) -> str:
    if vendor == "SQLite":
        return f"sqlite:///{SCRATCH}/insights-{stories}.sqlite3"
    return f"{POSTGRES_SERVER}/bench_insights_{stories}"


def copy_archive(vendor: str, stories: int) -> str | None:
    """This part's own copy of the pages bench's archive, made once; None when ready, else why not."""
    source, target = pages_database_url(vendor, stories), database_url(vendor, stories)
    if vendor == "SQLite":
        source_path, target_path = source.removeprefix("sqlite:///"), target.removeprefix("sqlite:///")
        if os.path.exists(target_path):
            return None
        if not os.path.exists(source_path):
            return f"no {source_path}: run `python -m bench pages` first, which builds it"
        say(f"insights: copying {source_path}")
        with sqlite3.connect(source_path) as original, sqlite3.connect(target_path + ".part") as copy:
            original.backup(copy)
        os.replace(target_path + ".part", target_path)
    else:
        import psycopg

        name, template = target.rsplit("/", 1)[1], source.rsplit("/", 1)[1]
        try:
            with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=10) as connection:
                if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    return None
                if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
                    return f"no {template} database: run `python -m bench pages` first, which builds it"
                say(f"insights: copying the {template} database")
                connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        except psycopg.Error as error:
            return f"PostgreSQL could not copy {template} to {name} (it must have no other session open): {error}"
    # Tasks the pages bench's builder left queued (index updates) are not this part's: its worker runs only the plays'.
    forget_queued_tasks(target)
    return None


def forget_queued_tasks(url: str) -> None:
    statement = "DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY'"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute(statement)
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(statement)


def run(*, quick: bool) -> PartResult:
    result = PartResult(part="insights", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    stories = 10_000 if quick else 100_000
    rounds = 8 if quick else 20
    for vendor in VENDORS:
        problem = copy_archive(vendor, stories)
        if problem:
            result.not_measured.append(f"{vendor}, {stories:,} stories: {problem}")
            continue
        url = database_url(vendor, stories)
        say(f"insights: {vendor}, {stories:,} stories")
        measured = run_json(
            [PROJECT_PYTHON, CHILD, "--rounds", rounds],
            timeout=3600,
            env={"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "storyarchive.settings.base"},
        )
        latency_figures(result, vendor, measured)
        costs = beacon_figures(result, vendor, measured)
        plays_figures(result, vendor, url, quick=quick, report_ms=costs)
    return result


def latency_figures(result: PartResult, vendor: str, measured: dict) -> None:
    """Each insights address's p95 for each filter, beside the search of the same filter."""
    label = f"Insights, {measured['public']:,} public stories, {vendor}"
    slowest = {}
    for name, times in measured["times"].items():
        search_p95 = percentile(times[SEARCH], 0.95)
        for address in INSIGHTS:
            ours = percentile(times[address], 0.95)
            slowest[address] = max(slowest.get(address, (0, "")), (ours, name))
            result.figures.append(
                Figure(
                    label,
                    f"{address} p95, {name}",
                    "ms",
                    round(ours, 1),
                    round(search_p95, 1),
                    f"{SEARCH}, same filter",
                    len(times[address]),
                    goal=f"under {GOAL_MS} ms",
                    goal_met=ours < GOAL_MS,
                )
            )
    result.findings.append(
        f"{vendor}: the slowest filter for /insights/ is {slowest['/insights/'][1]} (p95 "
        f"{slowest['/insights/'][0]:.0f} ms), for /api/insights {slowest['/api/insights'][1]} (p95 "
        f"{slowest['/api/insights'][0]:.0f} ms); each is timed beside /api/search of the same filter, which "
        "reads the same matching stories (the search query object is shared) but counts only its five facets."
    )


def beacon_figures(result: PartResult, vendor: str, measured: dict) -> float:
    """What one listening report costs in a process of its own, and of that the check of its story; the median
    report."""
    label = f"Listening beacon, {measured['public']:,} public stories, {vendor}"
    for name, times in measured["beacon"].items():
        result.figures.append(
            Figure(label, f"{name}: median, in one process", "ms", round(median(times), 3), runs=len(times))
        )
    report, check, rule, nothing = (median(times) for times in measured["beacon"].values())
    runs = len(next(iter(measured["beacon"].values())))
    result.findings.append(
        f"{vendor}: a listening report takes {report:.2f} ms in one process through the beacon's own handler "
        f"(median of {runs}; the process's own memory as the cache, so without the shared cache's one round trip), "
        f"{check:.3f} ms of it checking the story against the rule's stored answer as the process holds it (no query "
        f"once a story has been heard). The rule itself is asked once per batch, when the counts are written: "
        f"{rule:.1f} ms for a batch's 100 stories. A request doing next to nothing (robots.txt) takes {nothing:.1f} ms "
        "through Django's whole middleware, which the beacon's handler does not run."
    )
    return report


def plays_figures(result: PartResult, vendor: str, url: str, *, quick: bool, report_ms: float) -> None:
    """/api/search p95 without plays, then while wrk posts the listening beacon at 1,000 plays a second, to the
    beacon's own gunicorn as the deployment runs it (nginx sends /listened there), beside the pages' two workers."""
    if shutil.which("wrk") is None:
        result.not_measured.append(f"{vendor}, plays: wrk is not installed (`apt-get install wrk`)")
        return
    import redis

    redis.Redis.from_url(CACHE_URL).flushdb()
    site = Site("insights")
    site.root.mkdir(parents=True, exist_ok=True)
    environment = {
        "DATABASE_URL": url,
        "CACHE_URL": CACHE_URL,
        # /api/search is never served from the page cache; off, so the plays' work is all that changes.
        "PAGE_CACHE_SECONDS": "0",
        # Reached as nginx would reach it: the listeners' addresses come in X-Forwarded-For.
        "STORY_TRUSTED_PROXIES": "127.0.0.1",
    }
    seconds, requests = (10, 150) if quick else (30, 1000)
    options, scheduled = beacon_server()
    with gunicorn(site, workers=2, environment=environment) as (base, _):
        with (
            gunicorn(site, workers=None, options=options, scheduled=scheduled, environment=environment) as (beacon, _),
            transcription_worker(site, environment=environment),
        ):
            stories = beacon_stories(base)
            search_latencies(base, max_requests=20, max_seconds=30)  # warm both workers
            # The beacon too, as a server running for days is: each worker reads each story once from the
            # database, and until both have, reports wait behind those reads.
            say(f"insights: {vendor}, the beacon warmed for {BEACON_WARM_SECONDS} s")
            warm = start_beacons(beacon, stories, seconds=BEACON_WARM_SECONDS)
            cold = finish_beacons(warm, wait=True)
            say(
                f"insights: {vendor}, search without plays and while the beacon is posted at {PLAYS_PER_SECOND:,} "
                f"plays a second, in {PLAYS_ROUNDS} rounds of each"
            )
            quiet, busy, beacons = plays_rounds(base, beacon, stories, requests=requests, seconds=seconds)
    ours, peer = percentile(busy, 0.95), percentile(quiet, 0.95)
    rate = beacons["requests"] / max(beacons["seconds"], 1e-9)
    refused = beacons["refused"]
    label = f"Search while the listening beacon is posted, {vendor}"
    result.figures += [
        Figure(
            label,
            f"{SEARCH} p95",
            "ms",
            round(ours, 1),
            round(peer, 1),
            "without plays",
            len(busy),
            goal=f"at most {PLAYS_GOAL_RATIO:g}x without, at {PLAYS_PER_SECOND:,} plays a second",
            goal_met=ours <= PLAYS_GOAL_RATIO * peer and rate >= PLAYS_PER_SECOND * 0.95,
            note=f"{len(busy)} searches with, {len(quiet)} without; p50 {median(busy):.1f} against "
            f"{median(quiet):.1f} ms",
        ),
        Figure(
            label,
            "plays recorded a second (beacon reports answered)",
            "plays/s",
            round(rate),
            PLAYS_PER_SECOND,
            "asked",
            1,
            lower_is_better=False,
            note=f"{beacons['requests']:,} reports in {beacons['seconds']:.0f} s, {refused} refused or failed; "
            f"beacon p95 {beacons['p95_ms']:.1f} ms (the slowest round's); {BEACON_THREADS} wrk threads on a timetable, "
            f"{BEACON_CONNECTIONS} connections; freshly started, it answered "
            f"{cold['requests'] / max(cold['seconds'], 1e-9):,.0f} a second in its first {BEACON_WARM_SECONDS} s",
        ),
    ]
    result.findings.append(
        f"{vendor}: the beacon recorded {rate:,.0f} plays a second of the {PLAYS_PER_SECOND:,} asked, and search p95 "
        f"went from {peer:.0f} to {ours:.0f} ms. One report costs {report_ms:.2f} ms of one core in a process of its "
        f"own (median, its own handler, no HTTP): {PLAYS_PER_SECOND:,} a second need "
        f"{PLAYS_PER_SECOND * report_ms / 1000:.2f} of a core before HTTP, the shared cache and the load generator, "
        "on a machine of 2 cores that search shares. The reports go to the beacon's own gunicorn "
        f"(`{' '.join(scheduled + options)}`, as deploy/systemd/storyarchive-beacon.service runs it), so the pages' "
        f"workers are served first. Search is timed without and with the plays in {PLAYS_ROUNDS} alternating rounds. "
        f"It is warmed for {BEACON_WARM_SECONDS} s before anything is timed, as "
        "the search is: a freshly started worker reads each story once from the database."
    )


def plays_rounds(
    base: str, beacon: str, stories: list[int], *, requests: int, seconds: int
) -> tuple[list[float], list[float], dict]:
    """/api/search latencies without plays and with them, in PLAYS_ROUNDS rounds of one then the other, and wrk's
    figures for the plays summed over the rounds. Alternating compares like with like: the quiet p95 alone moved
    between 3.2 and 4.7 ms from one run to the next on this machine, a drift larger than the 20% the goal allows."""
    quiet, busy, answered, timed, refused = [], [], 0, 0.0, 0
    latencies = []
    for _ in range(PLAYS_ROUNDS):
        quiet += search_latencies(base, max_requests=requests // PLAYS_ROUNDS, max_seconds=seconds / PLAYS_ROUNDS)
        plays = start_beacons(beacon, stories, seconds=seconds + 30)
        try:
            time.sleep(PLAYS_RAMP_SECONDS)  # wrk's threads on their timetable
            busy += search_latencies(base, max_requests=requests // PLAYS_ROUNDS, max_seconds=seconds / PLAYS_ROUNDS)
        finally:
            figures = finish_beacons(plays)
        answered, timed = answered + figures["requests"], timed + figures["seconds"]
        refused += figures["errors"] + figures["non2xx"]
        latencies.append(figures["p95_ms"])
    return quiet, busy, {"requests": answered, "seconds": timed, "refused": refused, "p95_ms": max(latencies)}


def beacon_stories(base: str, *, wanted: int = 100) -> list[int]:
    """Public stories with a recording, read from /api/stories as a player's page would know them."""
    ids, address = [], f"{base}/api/stories"
    while address and len(ids) < wanted:
        request = urllib.request.Request(address, headers={"X-Forwarded-Proto": "https"})
        page = json.loads(urllib.request.urlopen(request, timeout=60).read())
        ids += [item["id"] for item in page["items"] if item["kind"] in ("audio", "video")]
        address = page["next"] and base + urllib.parse.urlsplit(page["next"])._replace(scheme="", netloc="").geturl()
    if not ids:
        raise RuntimeError("no public story with a recording to post plays for")
    return ids[:wanted]


def start_beacons(base: str, stories: list[int], *, seconds: int) -> subprocess.Popen:
    """wrk posting PLAYS_PER_SECOND reports a second on a timetable (bench/wrk_beacon.lua), whatever their latency."""
    return subprocess.Popen(
        [
            "wrk",
            f"-t{BEACON_THREADS}",
            f"-c{BEACON_CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(BEACON_SCRIPT),
            f"{base}/listened",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "BENCH_BEACON_STORIES": ",".join(map(str, stories)),
            "BENCH_BEACON_RATE": str(PLAYS_PER_SECOND),
            "BENCH_BEACON_THREADS": str(BEACON_THREADS),
            "BENCH_MAX_REQUESTS": str(PLAYS_PER_SECOND * seconds // BEACON_THREADS),
        },
    )


def finish_beacons(plays: subprocess.Popen, *, wait: bool = False) -> dict:
    """wrk's figures, when it has run its duration (`wait`) or, stopped now, as far as it got: the search ends sooner
    than the duration it was given."""
    if not wait:
        plays.send_signal(signal.SIGINT)
    stdout, stderr = plays.communicate(timeout=60)
    lines = stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"wrk gave no figures: {stderr[-500:]}")
    return json.loads(lines[-1])
