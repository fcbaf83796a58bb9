"""The visitors and storytellers of the load benchmark (bench/load.py), for locust: loopback only, bounded by its run.

Visitors browse (home, listings, story pages), search (the search page and /api/search) and listen (a recording's
access copy in byte ranges, expecting 206, and the player's listening beacon), with a few seconds' thought between
requests. Storytellers share a short real recording through the share link's resumable upload and submit the form
with consent, which queues its transcription for the worker; they stop BENCH_LOAD_QUIET_SECONDS before the end so
the worker's queue at the end says whether it kept pace. Each user sends its own X-Forwarded-For, as nginx would
for a visitor of its own (the gunicorn under test trusts 127.0.0.1 as its proxy), so the per-client rate limits see
200 visitors rather than one.

Reads BENCH_LOAD_TARGETS (a JSON file of paths, written by bench/load.py) and BENCH_LOAD_BEACON (the beacon's own
server, as nginx sends it the reports), and writes BENCH_LOAD_OUTPUT (per request name: count, failures, p50/p95/p99
in ms; and how often the page cache answered) when locust quits.
"""

import itertools
import json
import os
import random
import re
import time
import urllib.parse
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, events, task

TARGETS = json.loads(Path(os.environ["BENCH_LOAD_TARGETS"]).read_text())
OUTPUT = Path(os.environ["BENCH_LOAD_OUTPUT"])
RUN_SECONDS = float(os.environ.get("BENCH_LOAD_RUN_SECONDS", "180"))
QUIET_SECONDS = float(os.environ.get("BENCH_LOAD_QUIET_SECONDS", "45"))
# The listening beacon's own server, where nginx sends POST /listened (unset: the pages' own, --host).
BEACON = os.environ.get("BENCH_LOAD_BEACON", "")
RECORDING = Path(TARGETS["recording"])
RANGE_BYTES = 256 * 1024
CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")
# As nginx tells the production settings: the visitor came over HTTPS (no redirect to it).
HTTPS = {"X-Forwarded-Proto": "https"}

page_cache = Counter()  # the archive's X-Page-Cache answers: hit, miss, or none (not cacheable)
submitted: list[float] = []  # when each story was submitted, seconds after the start
addresses = itertools.count(1)
started_at = time.monotonic()


@events.init.add_listener
def loopback_only(environment, **_):
    for address in (environment.host, BEACON or environment.host):
        host = urllib.parse.urlsplit(address or "").hostname
        if host != "127.0.0.1":
            raise SystemExit(f"the load benchmark runs against 127.0.0.1 only, not {host!r}")


@events.test_start.add_listener
def clock_starts(**_):
    global started_at
    started_at = time.monotonic()


@events.quitting.add_listener
def write_figures(environment, **_):
    requests = {}
    for entry in environment.stats.entries.values():
        requests[entry.name] = {
            "method": entry.method,
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.50),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
        }
    errors = [
        {"name": error.name, "error": str(error.error)[:300], "occurrences": error.occurrences}
        for error in environment.stats.errors.values()
    ]
    total = environment.stats.total
    OUTPUT.write_text(
        json.dumps(
            {
                "requests": requests,
                "total": {"count": total.num_requests, "failures": total.num_failures},
                "errors": errors,
                "page_cache": dict(page_cache),
                "submitted_at": submitted,
            }
        )
    )


class Client(HttpUser):
    abstract = True

    def on_start(self):
        number = next(addresses)
        self.headers = {**HTTPS, "X-Forwarded-For": f"10.{number // 250}.{number % 250}.7"}

    def get(self, path: str, *, name: str, expect: int = 200, headers: dict | None = None):
        with self.client.get(
            path, name=name, headers={**self.headers, **(headers or {})}, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, expected {expect}")
            if expect == 200:
                page_cache[response.headers.get("X-Page-Cache", "none")] += 1
            return response


class Visitor(Client):
    """Someone reading and listening: a few seconds between one request and the next."""

    wait_time = between(2, 8)

    @task(3)
    def home(self):
        self.get("/", name="home")

    @task(4)
    def story(self):
        self.get(random.choice(TARGETS["stories"]), name="a story")

    @task(2)
    def listing(self):
        kind, path = random.choice(TARGETS["listings"])
        self.get(path, name=kind)

    @task(3)
    def search_page(self):
        term = random.choice(TARGETS["terms"])
        self.get(f"/search/?q={urllib.parse.quote(term)}", name="search page")

    @task(2)
    def search_api(self):
        term = random.choice(TARGETS["terms"])
        self.get(f"/api/search?q={urllib.parse.quote(term)}", name="/api/search")

    @task(3)
    def listen(self):
        """The player's first range, then a seek further in, then the beacon for what was heard."""
        story_id, recording = random.choice(TARGETS["recordings"])
        first = self.get(
            recording, name="recording, byte range", expect=206, headers={"Range": f"bytes=0-{RANGE_BYTES - 1}"}
        )
        match = CONTENT_RANGE.match(first.headers.get("Content-Range", ""))
        if match:
            size = int(match[1])
            start = random.randrange(0, max(size - RANGE_BYTES, 1))
            self.get(
                recording,
                name="recording, byte range",
                expect=206,
                headers={"Range": f"bytes={start}-{start + RANGE_BYTES - 1}"},
            )
        with self.client.post(
            f"{BEACON}/listened",
            name="listening beacon",
            data=json.dumps({"story": story_id, "stretches": [0, 1], "play": True}),
            headers={**self.headers, "Content-Type": "text/plain", "Sec-Fetch-Site": "same-origin"},
            catch_response=True,
        ) as response:
            if response.status_code not in (202, 204):
                response.failure(f"{response.status_code}, expected 202")


class Storyteller(Client):
    """Someone sharing a story through an invite link: the form, the resumable upload, then the submission."""

    fixed_count = int(os.environ.get("BENCH_LOAD_STORYTELLERS", "4"))
    wait_time = between(15, 30)

    @task
    def share(self):
        if time.monotonic() - started_at > RUN_SECONDS - QUIET_SECONDS:
            return  # the last stretch is left to the worker: its queue at the end says whether it kept pace
        token = TARGETS["invite"]
        origin = f"https://{urllib.parse.urlsplit(self.host).netloc}"
        form = self.get(f"/share/{token}/", name="share form")
        cookie = form.cookies.get("csrftoken") or re.search(r"csrftoken=([^;]+)", form.headers.get("Set-Cookie", ""))[1]
        # The production cookies are Secure and this client speaks plain HTTP to gunicorn: sent by hand, as the
        # upload benchmark does, with the Origin a browser on the HTTPS site would send.
        secured = {**self.headers, "Cookie": f"csrftoken={cookie}", "X-CSRFToken": cookie, "Origin": origin}
        body = RECORDING.read_bytes()
        with self.client.post(
            f"/share/{token}/uploads/",
            name="upload: start",
            headers={**secured, "Upload-Length": str(len(body)), "Upload-Filename": RECORDING.name},
            catch_response=True,
        ) as started:
            if started.status_code != 201:
                started.failure(f"{started.status_code}, expected 201")
                return
        location = started.headers["Location"]
        with self.client.patch(
            location,
            name="upload: the recording",
            data=body,
            headers={**secured, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
            catch_response=True,
        ) as sent:
            if sent.status_code != 200:
                sent.failure(f"{sent.status_code}, expected 200")
                return
        upload_id = location.rstrip("/").rsplit("/", 1)[-1]
        fields = {
            "title": f"Load test story {random.randrange(10**6)}",
            "upload_id": upload_id,
            "language": "en",
            "themes": [random.choice(TARGETS["theme_ids"])],
            "consent_scope": "public",
            "consent": "on",
            "email": "",
            "csrfmiddlewaretoken": cookie,
            "storytellers-TOTAL_FORMS": "1",
            "storytellers-INITIAL_FORMS": "0",
            "storytellers-MIN_NUM_FORMS": "1",
            "storytellers-MAX_NUM_FORMS": "8",
            "storytellers-0-display_name": "Load Test Teller",
            "storytellers-0-birth_year": "1960",
            "storytellers-0-role": "storyteller",
        }
        with self.client.post(
            f"/share/{token}/",
            name="share: submit",
            data=fields,
            headers={**secured, "Referer": f"{origin}/share/{token}/"},
            allow_redirects=False,
            catch_response=True,
        ) as submit:
            if submit.status_code != 302:
                submit.failure(f"{submit.status_code}, expected 302 to the thank-you page: {submit.text[:200]!r}")
                return
        submitted.append(round(time.monotonic() - started_at, 1))
