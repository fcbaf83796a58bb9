"""Throughput: requests per second and p95 for the home, story and search pages under gunicorn with 2 workers.

wrk drives each page over loopback with one thread and 4 connections, bounded by a request count and a duration.
The project has no page cache setting, so "with a page cache" uses Django's per-site cache in bench-only settings.
"""

import json
import os
import shutil
import subprocess
import time

from bench.common import REPOSITORY, Figure, PartResult, median, say
from bench.site import Site, gunicorn

WRK_SCRIPT = REPOSITORY / "bench" / "wrk_report.lua"
CONNECTIONS = 4
CONFIGURATIONS = {
    "no page cache (the project as it is)": "storyarchive.settings.production",
    "Django site cache (bench-only settings)": "bench.cached_settings",
}


def drive(url: str, *, seconds: int, max_requests: int) -> dict:
    """One bounded wrk run against one URL."""
    completed = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(WRK_SCRIPT), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        env={**os.environ, "BENCH_MAX_REQUESTS": str(max_requests)},
        check=True,
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["rps"] = figures["requests"] / max(figures["seconds"], 1e-9)
    return figures


def story_path(site: Site) -> str:
    return site.shell(
        "from stories.models import StoryPage; "
        "story = StoryPage.objects.visible_to_public().exclude(recording=None).order_by('pk').first(); "
        "print(story.url)"
    ).splitlines()[-1]


def run(*, quick: bool) -> PartResult:
    result = PartResult(part="throughput", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `apt-get install wrk` (`make bench` installs it when it can)")
    site = Site("site")
    site.prepare_demo()
    pages = {"home": "/", "story": story_path(site), "search": "/search/?q=housing"}
    seconds, runs, max_requests = (3, 1, 2_000) if quick else (8, 3, 20_000)
    measured: dict[tuple[str, str], list[dict]] = {}
    for label, settings in CONFIGURATIONS.items():
        with gunicorn(site, workers=2, settings=settings) as (base, _):
            for path in pages.values():
                drive(base + path, seconds=1, max_requests=50)  # warm both workers and the cache
            for attempt in range(runs):
                for page, path in pages.items():
                    say(f"pages: {page} with {label}, run {attempt + 1}/{runs}")
                    measured.setdefault((label, page), []).append(
                        drive(base + path, seconds=seconds, max_requests=max_requests)
                    )
    plain, cached = CONFIGURATIONS
    for page in pages:
        ours, peer = measured[(plain, page)], measured[(cached, page)]
        errors = sum(r["errors"] + r["non2xx"] for r in ours + peer)
        note = f"{pages[page]}; {errors} errors or non-2xx responses" if errors else pages[page]
        result.figures += [
            Figure(
                f"{page} page",
                "requests per second",
                "req/s",
                round(median([r["rps"] for r in ours]), 1),
                round(median([r["rps"] for r in peer]), 1),
                "with a page cache",
                runs,
                lower_is_better=False,
                note=note,
            ),
            Figure(
                f"{page} page",
                "p95 latency",
                "ms",
                round(median([r["p95_ms"] for r in ours]), 1),
                round(median([r["p95_ms"] for r in peer]), 1),
                "with a page cache",
                runs,
            ),
        ]
    for figure in result.figures:
        if figure.measure == "requests per second" and figure.ratio:
            result.findings.append(
                f"{figure.benchmark}: without a page cache we serve {figure.ratio:.0%} of what a cached site serves "
                f"({figure.ours:g} against {figure.peer:g} req/s). Every uncached request renders Wagtail's page "
                "and runs the visibility rule's queries on SQLite; a cache answers from memory."
            )
    result.not_measured.append(
        "The project's own page cache: it has no page cache setting yet, so 'ours' is without one and the peer is "
        "Django's per-site cache middleware switched on by bench/cached_settings.py."
    )
    return result
