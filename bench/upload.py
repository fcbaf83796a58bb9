"""Upload: the web process's peak RSS while a 1 GB recording arrives through the share link's resumable upload.

gunicorn runs one sync worker so "the web process" is one process; the kernel's VmHWM for it is read before (idle,
after serving the share form) and after the upload, which includes the finishing probe and checksum.
"""

import http.client
import struct
import time
import urllib.parse

from bench.common import Figure, PartResult, median, say
from bench.site import Site, gunicorn, peak_rss_mb, worker_pids

PIECE = 4 * 1024 * 1024  # what the share form's script sends per PATCH
GOAL_MB = 150


def wav_header(total_bytes: int) -> bytes:
    """A 48 kHz stereo 16-bit WAV header, so 1 GB is about 93 minutes: a recording the archive accepts."""
    data_bytes = total_bytes - 44
    return (
        b"RIFF"
        + struct.pack("<I", total_bytes - 8)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 2, 48_000, 48_000 * 4, 4, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


SILENCE = bytes(PIECE)


def recording_bytes(total: int, offset: int, size: int):
    """Bytes offset..offset+size of the recording, made on the fly so the client never holds the whole file."""
    end = offset + size
    if offset == 0:
        header = wav_header(total)
        yield header
        offset = len(header)
    while offset < end:
        step = min(PIECE, end - offset)
        yield SILENCE[:step]
        offset += step


def invite_token(site: Site) -> str:
    return site.shell(
        "import datetime; from django.utils import timezone; from stories import services; "
        "from stories.models import Community; "
        "invite = services.invite_create(community=Community.objects.order_by('pk').first(), "
        "expires_at=timezone.now() + datetime.timedelta(days=1), max_uses=1000, label='bench'); "
        "print(invite.token)"
    ).splitlines()[-1]


class ShareClient:
    """The share form's upload script, spoken over http.client: CSRF cookie, start, PATCH pieces, delete."""

    def __init__(self, base: str, token: str):
        parsed = urllib.parse.urlsplit(base)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
        self.token = token
        self.headers: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers: dict | None = None):
        self.connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
        response = self.connection.getresponse()
        payload = response.read()
        return response, payload

    def open_form(self) -> None:
        response, _ = self.request("GET", f"/share/{self.token}/")
        cookie = next(
            part.split("=", 1)[1]
            for header in response.headers.get_all("Set-Cookie") or []
            for part in [header.split(";", 1)[0]]
            if part.startswith("csrftoken=")
        )
        self.headers = {"Cookie": f"csrftoken={cookie}", "X-CSRFToken": cookie}

    def upload(self, total: int, *, piece: int) -> str:
        response, payload = self.request(
            "POST",
            f"/share/{self.token}/uploads/",
            headers={"Upload-Length": str(total), "Upload-Filename": "bench.wav"},
        )
        if response.status != 201:
            raise RuntimeError(f"upload start answered {response.status}: {payload[:300]!r}")
        location = response.headers["Location"]
        offset = 0
        while offset < total:
            size = min(piece, total - offset)
            response, payload = self.request(
                "PATCH",
                location,
                body=recording_bytes(total, offset, size),
                headers={"Upload-Offset": str(offset), "Content-Length": str(size)},
            )
            if response.status != 200:
                raise RuntimeError(f"PATCH at {offset} answered {response.status}: {payload[:300]!r}")
            offset += size
        if b'"complete": true' not in payload and b'"complete":true' not in payload:
            raise RuntimeError(f"the upload did not finish: {payload[:300]!r}")
        return location

    def discard(self, location: str) -> None:
        self.request("DELETE", location)


def run(*, quick: bool) -> PartResult:
    result = PartResult(part="upload", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    site = Site("site")
    site.prepare_demo()
    token = invite_token(site)
    total = (256 if quick else 1024) * 1024 * 1024
    # The high-water mark barely moves between runs, and a 1 GB upload takes a minute here: one run of each.
    runs = 1
    measured: dict[str, list[tuple[float, float, float]]] = {"4 MB pieces": [], "one request": []}
    for attempt in range(runs):
        for style, piece in (("4 MB pieces", PIECE), ("one request", total)):
            # A fresh worker per upload, so each high-water mark belongs to one upload only.
            with gunicorn(site, workers=1) as (base, master):
                client = ShareClient(base, token)
                client.open_form()
                (worker,) = worker_pids(master)
                idle = peak_rss_mb(worker)
                say(f"upload: {total >> 20} MB as {style}, run {attempt + 1}/{runs}")
                started = time.perf_counter()
                location = client.upload(total, piece=piece)
                seconds = time.perf_counter() - started
                peak = peak_rss_mb(worker)
                client.discard(location)
            measured[style].append((peak, idle, seconds))
    size = f"{total >> 20} MB"
    for style, rows in measured.items():
        peak, idle, seconds = (median([row[i] for row in rows]) for i in range(3))
        result.figures.append(
            Figure(
                f"Upload of {size}, {style}",
                "web process peak RSS",
                "MB",
                round(peak, 1),
                round(idle, 1),
                "same worker idle, before the upload",
                runs,
                goal=f"under {GOAL_MB} MB",
                goal_met=peak < GOAL_MB,
                note=f"{total / 1024**2 / seconds:.0f} MB/s over loopback, including the probe and checksum at the end",
            ),
        )
    for figure in result.figures:
        grew = figure.ours - figure.peer
        result.findings.append(
            f"{figure.benchmark}: the worker grew by {grew:.0f} MB over its idle {figure.peer:.0f} MB. The share "
            "endpoint reads the body 1 MB at a time and appends it to a file, so memory does not follow the file's "
            "size; most of the peak is Django and Wagtail already loaded."
        )
    if quick:
        result.not_measured.append("the 1 GB upload (quick run uploads 256 MB)")
    return result
