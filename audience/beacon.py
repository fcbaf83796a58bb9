"""The player's listening beacon: POST /listened, a story id and the 10-second stretches just heard.

Why it is exempt from CSRF: `navigator.sendBeacon` cannot carry a token or a custom header, and a beacon changes
nothing anyone owns: it adds to anonymous counts. What would matter is someone inflating the counts from another
site, so the endpoint takes only one narrow JSON shape, refuses any request a browser marks as cross-site
(`Sec-Fetch-Site`) or from another origin (`Origin`), and limits each client, counted under a hash that lives a
minute in the cache, never the address itself. It reads no cookie and sets none, touches no session, and stores no
address, user agent or identifier: a beacon becomes counts in the process's tally (audience.tally), written later
in batches. Do Not Track (`DNT: 1`) and Global Privacy Control (`Sec-GPC: 1`) make it store nothing.

What it costs: a report is answered from the rule's stored answer as this process holds it (audience.playable), with
no query once a story has been heard, and by a handler of its own (ListeningBeaconHandler, put in front of Django by
storyarchive/wsgi.py) that runs only the middleware a report needs. The rule itself is asked when the batch is
written, so a report taken just before the process heard of a story being hidden is never stored.
"""

import hashlib
import json
import math
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stories.share.throttle import client_address, counted

from . import playable, tally
from .models import STRETCH_SECONDS

MAX_BODY_BYTES = 4096
# A beacon carries at most this many stretches: the player sends every few stretches, so more is not a player.
MAX_STRETCHES = 60
# Without a known duration, no stretch past the longest recording the archive accepts.
LONGEST_SECONDS = 4 * 3600
DEFAULT_LIMIT_PER_MINUTE = 120
RATE_WINDOW_SECONDS = 60
CONTENT_TYPES = ("application/json", "text/plain")
BEACON_PATH = "/listened"
# What the beacon's own handler runs, in settings.MIDDLEWARE's order: HTTPS redirect and HSTS, frame and content
# policies. Nothing else in settings.MIDDLEWARE changes a report's answer.
BEACON_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "storyarchive.middleware.ContentSecurityPolicyMiddleware",
)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def listening_not_wanted(request) -> bool:
    """Do Not Track or Global Privacy Control is on."""
    return request.META.get("HTTP_DNT", "").strip() == "1" or request.META.get("HTTP_SEC_GPC", "").strip() == "1"


def _refusal(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=status)
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = str(len(response.content))
    return response


@csrf_exempt  # a beacon cannot carry a CSRF token: see the module's docstring for what guards this endpoint instead
@require_POST
def listened(request):
    if listening_not_wanted(request):
        return _nothing_stored(status=204)
    try:
        _refuse_other_sites(request)
        version = _refuse_floods(request)
        story_id, stretches, play = _parse(request)
        _check_story(story_id, stretches, version=version)
    except Refused as refusal:
        return _refusal(refusal.status, str(refusal))
    tally.add_listening(story_id=story_id, day=timezone.localdate(), stretches=stretches, play=play)
    return _nothing_stored(status=202)


def _nothing_stored(*, status: int) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = "0"
    return response


def _refuse_other_sites(request) -> None:
    site = request.META.get("HTTP_SEC_FETCH_SITE")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, "Listening is counted only from this archive's own pages.")
    origin = request.META.get("HTTP_ORIGIN")
    # The host alone: behind a proxy that ends TLS the scheme Django sees may differ from the browser's.
    if origin is not None and urlsplit(origin).netloc != request.get_host():
        raise Refused(403, "Listening is counted only from this archive's own pages.")


def _refuse_floods(request) -> int | None:
    """Count the report under its client's hash; returns the version of the stored answer read alongside it."""
    limit = getattr(settings, "AUDIENCE_BEACON_LIMIT_PER_MINUTE", DEFAULT_LIMIT_PER_MINUTE)
    window = int(time.time() // RATE_WINDOW_SECONDS)
    # Salted with the secret and the minute, so the key neither holds the address nor can be turned back into it.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{window}:{client_address(request)}".encode()).hexdigest()[:32]
    reports, version = _shared_cache().count_and_read(
        f"audience:beacons:{digest}", RATE_WINDOW_SECONDS, playable.VERSION_KEY
    )
    if reports > limit:
        raise Refused(429, f"Too many listening reports from here: at most {limit} a minute.")
    return version


class _SharedCache:
    """Any Django cache: the count and the read as separate calls."""

    def count_and_read(self, counted_key: str, seconds: int, read_key: str) -> tuple[int, int | None]:
        return counted(counted_key, seconds), cache.get(read_key)


class _SharedRedis:
    """Django's Redis cache: the count and the read in one round trip (a pipeline), as every report makes them."""

    def count_and_read(self, counted_key: str, seconds: int, read_key: str) -> tuple[int, int | None]:
        counted_key, read_key = cache.make_and_validate_key(counted_key), cache.make_and_validate_key(read_key)
        client = cache._cache.get_client(counted_key, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.set(counted_key, 0, ex=seconds, nx=True)
        pipeline.incr(counted_key)
        pipeline.get(read_key)
        _, reports, value = pipeline.execute()
        # Django's Redis cache stores a number as its digits (the version is one), anything else pickled.
        return reports, int(value) if value is not None and value.isdigit() else None


def _shared_cache():
    return _SharedRedis() if isinstance(caches["default"], RedisCache) else _SharedCache()


def _parse(request) -> tuple[int, list[int], bool]:
    content_type = request.content_type or ""
    if content_type not in CONTENT_TYPES:
        raise Refused(415, "Send the listening report as JSON (application/json or text/plain).")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise Refused(413, f"A listening report is at most {MAX_BODY_BYTES} bytes.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, f"A listening report is at most {MAX_BODY_BYTES} bytes.")
    try:
        report = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "The listening report is not JSON.") from None
    shape = 'Send {"story": <id>, "stretches": [<numbers of 10-second stretches>], "play": true|false}.'
    if not isinstance(report, dict) or set(report) - {"story", "stretches", "play"} or "story" not in report:
        raise Refused(400, f"The listening report has the wrong shape. {shape}")
    story_id, stretches, play = report["story"], report.get("stretches", []), report.get("play", False)
    if type(story_id) is not int or story_id < 1:
        raise Refused(400, f"story must be a story's id, a whole number. {shape}")
    if not isinstance(stretches, list) or any(type(s) is not int or s < 0 for s in stretches):
        raise Refused(400, f"stretches must be a list of whole numbers from 0. {shape}")
    if len(stretches) > MAX_STRETCHES or len(set(stretches)) != len(stretches):
        raise Refused(400, f"stretches must name each stretch once, at most {MAX_STRETCHES} in a report.")
    if type(play) is not bool:
        raise Refused(400, f"play must be true or false. {shape}")
    if not stretches and not play:
        raise Refused(400, "The listening report says nothing: no stretch heard and no play started.")
    return story_id, stretches, play


def _check_story(story_id: int, stretches: list[int], *, version: int | None) -> None:
    """The story must be one the public may see, with a recording, and every stretch inside it: as the rule's stored
    answer says (audience.playable). The rule itself has the last word when the counts are written."""
    try:
        duration = playable.recording_seconds(story_id, version=version)
    except playable.NotPlayable:
        # One answer for a story that does not exist, is hidden, or has no recording: a hidden story is not named.
        raise Refused(404, "No story with a recording here.") from None
    stretch_count = stretches_in(duration)
    past = [s for s in stretches if s >= stretch_count]
    if past:
        raise Refused(
            400,
            f"Stretch {past[0]} is past the end of the recording, which has {stretch_count} stretches of "
            f"{STRETCH_SECONDS} seconds (0 to {stretch_count - 1}).",
        )


def stretches_in(duration: float | None) -> int:
    """How many 10-second stretches a recording of this length has (one of unknown length: the longest accepted)."""
    return max(math.ceil((duration or LONGEST_SECONDS) / STRETCH_SECONDS), 1)


class ListeningBeaconHandler(WSGIHandler):
    """Django's own WSGI handler for POST /listened alone: the beacon's view behind only the middleware that gives
    its answers their security headers and HTTPS redirect, without the sessions, authentication, CSRF, caching and
    redirects every page needs and a report does not. storyarchive/wsgi.py sends the beacon here."""

    def load_middleware(self, is_async=False):
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        chain = convert_exception_to_response(listened)
        for dotted in reversed(BEACON_MIDDLEWARE):
            chain = convert_exception_to_response(import_string(dotted)(chain))
        self._middleware_chain = chain


def beacon_in_front(django_application):
    """A WSGI application that answers POST /listened with ListeningBeaconHandler and everything else with Django."""
    beacon = ListeningBeaconHandler()

    def application(environ, start_response):
        if environ.get("PATH_INFO") == BEACON_PATH and environ.get("REQUEST_METHOD") == "POST":
            return beacon(environ, start_response)
        return django_application(environ, start_response)

    return application
