"""Load: 200 visitors browsing, searching and listening while storytellers share recordings and the worker
transcribes them, against gunicorn with the production settings, on loopback.

A fresh copy of the demo archive (bench/site.py's, SQLite) each run, so one run's stories do not pile into the next;
gunicorn as deploy/gunicorn.conf.py starts it, the listening beacon's own gunicorn as its unit starts it (the players'
reports go there, as nginx sends them), Redis as the shared cache (a database number of its own) with the page cache
on, and the archive's transcription worker (tiny.en) as `make run` starts it. locust (bench/load_locustfile.py) runs
headless, bounded by --run-time; its visitors think for 2-8 s between requests. The worker's queue (transcripts
queued or running) is read at the start, every few seconds, and at the end. Goals (issue 19): under 1% errors, search
p95 under 300 ms, and a queue that does not grow.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time

from bench.common import REPOSITORY, SCRATCH, Figure, PartResult, say
from bench.site import Site, beacon_server, gunicorn, transcription_worker, worker_pids
from bench.terms import TERMS

LOCUST = REPOSITORY / ".venv" / "bin" / "locust"
LOCUSTFILE = REPOSITORY / "bench" / "load_locustfile.py"
GUNICORN_CONFIG = REPOSITORY / "deploy" / "gunicorn.conf.py"
SPEECH = os.environ.get("BENCH_LOAD_RECORDING", "/work/shared/audio/jfk.flac")
CACHE_URL = os.environ.get("BENCH_LOAD_CACHE_URL", "redis://127.0.0.1:6379/13")
VISITORS = 200
STORYTELLERS = 4
SPAWN_RATE = 20
ERROR_GOAL = 0.01
SEARCH_GOAL_MS = 300
SEARCHES = ("search page", "/api/search")
SAMPLE_SECONDS = 5
# The page cache's generation (stories/page_cache.py) as Django's Redis cache stores it: each step is one forgetting.
GENERATION_KEY = ":1:page-cache:generation"
DRAIN_SECONDS = 120


def fresh_copy() -> Site:
    """The demo archive, seeded and transcribed once by bench/site.py, copied afresh for this run."""
    demo = Site("site")
    demo.prepare_demo()
    site = Site("load")
    shutil.rmtree(site.root, ignore_errors=True)
    shutil.copytree(demo.root, site.root, ignore=shutil.ignore_patterns("*.log"))
    return site


def environment() -> dict[str, str]:
    # As production runs it: deploy/gunicorn.conf.py's workers (2 x cores + 1) unless WEB_CONCURRENCY says.
    concurrency = os.environ.get("BENCH_LOAD_WEB_CONCURRENCY")
    return {
        **({"WEB_CONCURRENCY": concurrency} if concurrency else {}),
        # The notice to the facilitators of a story shared: no mail server here, and none is measured.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "CACHE_URL": CACHE_URL,
        "PAGE_CACHE_SECONDS": "300",
        # gunicorn is reached through the load generator as nginx would reach it: trust its X-Forwarded-For.
        "STORY_TRUSTED_PROXIES": "127.0.0.1",
    }


def targets(site: Site) -> dict:
    """The paths visitors choose among, and an invite for the storytellers."""
    code = (
        "import json, datetime; from django.utils import timezone; from django.urls import reverse; "
        "from stories import services; from stories.models import Community, StoryPage, Theme; "
        "public = StoryPage.objects.visible_to_public(); "
        "recorded = public.exclude(recording=None).exclude(recording__access_copy='').select_related('recording'); "
        "invite = services.invite_create(community=Community.objects.order_by('pk').first(), "
        "expires_at=timezone.now() + datetime.timedelta(days=1), max_uses=10000, label='load bench'); "
        "print(json.dumps({"
        "'stories': [story.url for story in public], "
        "'recordings': [[story.pk, reverse('stories:recording', args=[story.recording.id, 'access'])] "
        "for story in recorded], "
        "'listings': [['listing', '/stories/'], ['listing', '/themes/'], ['listing', '/communities/']] "
        "+ [['listing', f'/themes/{slug}/'] for slug in Theme.objects.values_list('slug', flat=True)[:4]] "
        "+ [['listing', f'/communities/{slug}/'] for slug in Community.objects.values_list('slug', flat=True)[:4]], "
        "'theme_ids': list(Theme.objects.values_list('pk', flat=True)), "
        "'invite': invite.token}))"
    )
    found = json.loads(site.shell(code).splitlines()[-1])
    if not found["recordings"]:
        raise RuntimeError("the demo archive has no public recording with an access copy to listen to")
    return {**found, "terms": TERMS, "recording": SPEECH}


def waiting_transcripts(site: Site) -> int:
    """Recordings the worker has still to transcribe: transcripts queued or running."""
    with sqlite3.connect(f"file:{site.database}?mode=ro", uri=True, timeout=30) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM transcription_transcript WHERE status IN ('queued', 'running')"
        ).fetchone()
    return count


class QueueWatch(threading.Thread):
    """Reads the worker's queue every few seconds while the load runs."""

    def __init__(self, site: Site):
        super().__init__(daemon=True)
        self.site, self.samples, self.stopping = site, [], threading.Event()

    def run(self):
        started = time.monotonic()
        while not self.stopping.wait(SAMPLE_SECONDS):
            self.samples.append((round(time.monotonic() - started), waiting_transcripts(self.site)))


def transcribed(site: Site) -> int:
    with sqlite3.connect(f"file:{site.database}?mode=ro", uri=True, timeout=30) as connection:
        (count,) = connection.execute("SELECT count(*) FROM transcription_transcript WHERE status = 'done'").fetchone()
    return count


def run(*, quick: bool) -> PartResult:
    result = PartResult(part="load", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    run_seconds, quiet_seconds = (60, 20) if quick else (180, 45)
    import redis

    shared_cache = redis.Redis.from_url(CACHE_URL)
    shared_cache.flushdb()
    site = fresh_copy()
    folder = SCRATCH / "load"
    folder.mkdir(parents=True, exist_ok=True)
    targets_file, output = folder / "targets.json", folder / "locust.json"
    targets_file.write_text(json.dumps(targets(site)))
    output.unlink(missing_ok=True)
    done_before = transcribed(site)
    options, scheduled = beacon_server()
    with gunicorn(site, workers=None, config=GUNICORN_CONFIG, environment=environment()) as (base, master):
        web_workers = len(worker_pids(master))
        watch = QueueWatch(site)
        with (
            # The listening beacon's own gunicorn, as its unit starts it: nginx sends it the players' reports.
            gunicorn(site, workers=None, options=options, scheduled=scheduled, environment=environment()) as ours,
            transcription_worker(site, environment=environment()),
        ):
            backlog_start = waiting_transcripts(site)
            generation_start = int(shared_cache.get(GENERATION_KEY) or 0)
            watch.start()
            say(f"load: {VISITORS} visitors and {STORYTELLERS} storytellers for {run_seconds} s against {base}")
            with open(folder / "locust.log", "w") as log:
                subprocess.run(
                    [
                        str(LOCUST),
                        "-f",
                        str(LOCUSTFILE),
                        "--headless",
                        "--host",
                        base,
                        "--users",
                        str(VISITORS + STORYTELLERS),
                        "--spawn-rate",
                        str(SPAWN_RATE),
                        "--run-time",
                        f"{run_seconds}s",
                        "--stop-timeout",
                        "30",
                        "--only-summary",
                    ],
                    cwd=REPOSITORY,
                    env={
                        **os.environ,
                        "BENCH_LOAD_TARGETS": str(targets_file),
                        "BENCH_LOAD_OUTPUT": str(output),
                        "BENCH_LOAD_RUN_SECONDS": str(run_seconds),
                        "BENCH_LOAD_QUIET_SECONDS": str(quiet_seconds),
                        "BENCH_LOAD_STORYTELLERS": str(STORYTELLERS),
                        "BENCH_LOAD_BEACON": ours[0],
                    },
                    stdout=log,
                    stderr=log,
                    timeout=run_seconds + 120,
                    check=False,
                )
            forgotten = int(shared_cache.get(GENERATION_KEY) or 0) - generation_start
            watch.stopping.set()
            watch.join()
            backlog_end = waiting_transcripts(site)
            transcribed_during = transcribed(site) - done_before
            drained = None
            if backlog_end:
                waited = time.monotonic()
                while waiting_transcripts(site) and time.monotonic() - waited < DRAIN_SECONDS:
                    time.sleep(1)
                if not waiting_transcripts(site):
                    drained = time.monotonic() - waited
    if not output.exists():
        raise RuntimeError(f"locust wrote no figures; see {folder / 'locust.log'}")
    figures = json.loads(output.read_text())
    add_figures(
        result,
        figures,
        backlog=(backlog_start, backlog_end, max([n for _, n in watch.samples], default=backlog_end)),
        transcribed_during=transcribed_during,
        drained=drained,
        run_seconds=run_seconds,
        quiet_seconds=quiet_seconds,
        web_workers=web_workers,
        forgotten=forgotten,
    )
    return result


def add_figures(
    result: PartResult,
    figures: dict,
    *,
    backlog: tuple[int, int, int],
    transcribed_during: int,
    drained: float | None,
    run_seconds: int,
    quiet_seconds: int,
    web_workers: int,
    forgotten: int = 0,
) -> None:
    label = f"Load, {VISITORS} visitors and {STORYTELLERS} storytellers, {run_seconds} s"
    total, requests = figures["total"], figures["requests"]
    error_rate = total["failures"] / max(total["count"], 1)
    result.figures.append(
        Figure(
            label,
            "error rate, every request",
            "%",
            round(100 * error_rate, 2),
            runs=total["count"],
            goal=f"under {100 * ERROR_GOAL:g}%",
            goal_met=error_rate < ERROR_GOAL,
            note=f"{total['failures']} of {total['count']} requests failed"
            + (
                "; " + "; ".join(f"{e['name']}: {e['error']} ({e['occurrences']}x)" for e in figures["errors"][:4])
                if figures["errors"]
                else ""
            ),
        )
    )
    for name, entry in sorted(requests.items(), key=lambda item: -item[1]["count"]):
        searching = name in SEARCHES
        for measure in ("p50_ms", "p95_ms", "p99_ms"):
            judged = searching and measure == "p95_ms"
            result.figures.append(
                Figure(
                    label,
                    f"{name}: {measure[:3]}",
                    "ms",
                    round(entry[measure], 1),
                    runs=entry["count"],
                    goal=f"under {SEARCH_GOAL_MS} ms" if judged else "",
                    goal_met=entry[measure] < SEARCH_GOAL_MS if judged else None,
                    note=f"{entry['method']}, {entry['failures']} failed" if measure == "p50_ms" else "",
                )
            )
    start, end, peak = backlog
    submitted = len(figures["submitted_at"])
    result.figures.append(
        Figure(
            label,
            "recordings waiting for the worker at the end",
            "recordings",
            end,
            start,
            "at the start",
            goal="not more than at the start",
            goal_met=end <= start,
            note=f"peak {peak}; {submitted} stories submitted, {transcribed_during} transcribed during the run; "
            f"storytellers stop {quiet_seconds} s before the end"
            + (f"; the rest drained {drained:.0f} s after the load" if drained is not None else ""),
        )
    )
    cache = figures["page_cache"]
    answered = cache.get("hit", 0) + cache.get("miss", 0)
    result.findings.append(
        f"gunicorn as deploy/gunicorn.conf.py starts it ({web_workers} sync workers), the listening beacon's own "
        "gunicorn as its unit starts it (the players' reports go there), the production settings, SQLite, Redis as "
        "the shared cache with the page cache on, and one transcription worker (tiny.en). "
        f"{total['count']:,} requests in {run_seconds} s ({total['count'] / run_seconds:.0f} a second), "
        f"{100 * error_rate:.2f}% failed. The page cache answered {cache.get('hit', 0):,} of the {answered:,} "
        f"cacheable pages ({100 * cache.get('hit', 0) / max(answered, 1):.0f}%): it forgot every page {forgotten:,} "
        f"times in the run, about {forgotten / max(len(figures['submitted_at']), 1):.0f} for each story shared "
        "(a row of a story never published, the admin's history and workflow, and the share form's uploads forget "
        "nothing; any other save of the archive's content forgets every cached page, at once and again on commit)."
    )
    result.findings.append(
        f"The worker's queue: {start} waiting at the start, {end} at the end, at most {peak} on the way "
        f"(read every {SAMPLE_SECONDS} s); {submitted} stories were shared and {transcribed_during} recordings "
        "transcribed while the visitors came."
    )
