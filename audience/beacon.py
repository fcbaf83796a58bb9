"""The player's listening beacon: POST /listened, a story id and the 10-second stretches just heard.

Why it is exempt from CSRF: `navigator.sendBeacon` cannot carry a token or a custom header, and a beacon changes
nothing anyone owns: it adds to anonymous counts. What would matter is someone inflating the counts from another
site, so the endpoint takes only one narrow JSON shape, refuses any request a browser marks as cross-site
(`Sec-Fetch-Site`) or from another origin (`Origin`), and limits each client, counted under a hash that lives a
minute in the cache, never the address itself. It reads no cookie and sets none, touches no session, and stores no
address, user agent or identifier: a beacon becomes counts in the process's tally (audience.tally), written later
in batches. Do Not Track (`DNT: 1`) and Global Privacy Control (`Sec-GPC: 1`) make it store nothing.
"""

import hashlib
import json
import math
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stories.models import StoryPage
from stories.share.throttle import client_address, counted

from . import tally
from .models import STRETCH_SECONDS

MAX_BODY_BYTES = 4096
# A beacon carries at most this many stretches: the player sends every few stretches, so more is not a player.
MAX_STRETCHES = 60
# Without a known duration, no stretch past the longest recording the archive accepts.
LONGEST_SECONDS = 4 * 3600
DEFAULT_LIMIT_PER_MINUTE = 120
RATE_WINDOW_SECONDS = 60
CONTENT_TYPES = ("application/json", "text/plain")


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
    return response


@csrf_exempt  # a beacon cannot carry a CSRF token: see the module's docstring for what guards this endpoint instead
@require_POST
def listened(request):
    if listening_not_wanted(request):
        return _nothing_stored(status=204)
    try:
        _refuse_other_sites(request)
        _refuse_floods(request)
        story_id, stretches, play = _parse(request)
        _check_story(story_id, stretches)
    except Refused as refusal:
        return _refusal(refusal.status, str(refusal))
    tally.add_listening(story_id=story_id, day=timezone.localdate(), stretches=stretches, play=play)
    return _nothing_stored(status=202)


def _nothing_stored(*, status: int) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Cache-Control"] = "no-store"
    return response


def _refuse_other_sites(request) -> None:
    site = request.META.get("HTTP_SEC_FETCH_SITE")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, "Listening is counted only from this archive's own pages.")
    origin = request.META.get("HTTP_ORIGIN")
    # The host alone: behind a proxy that ends TLS the scheme Django sees may differ from the browser's.
    if origin is not None and urlsplit(origin).netloc != request.get_host():
        raise Refused(403, "Listening is counted only from this archive's own pages.")


def _refuse_floods(request) -> None:
    limit = getattr(settings, "AUDIENCE_BEACON_LIMIT_PER_MINUTE", DEFAULT_LIMIT_PER_MINUTE)
    window = int(time.time() // RATE_WINDOW_SECONDS)
    # Salted with the secret and the minute, so the key neither holds the address nor can be turned back into it.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{window}:{client_address(request)}".encode()).hexdigest()[:32]
    if counted(f"audience:beacons:{digest}", RATE_WINDOW_SECONDS) > limit:
        raise Refused(429, f"Too many listening reports from here: at most {limit} a minute.")


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


def _check_story(story_id: int, stretches: list[int]) -> None:
    """The story must be one the public may see, with a recording, and every stretch inside it."""
    found = (
        StoryPage.objects.visible_to_public()
        .filter(pk=story_id, recording__isnull=False)
        .values_list("recording__duration_seconds", flat=True)
    )
    durations = list(found)
    if not durations:
        # One answer for a story that does not exist, is hidden, or has no recording: a hidden story is not named.
        raise Refused(404, "No story with a recording here.")
    duration = durations[0] or LONGEST_SECONDS
    stretch_count = max(math.ceil(duration / STRETCH_SECONDS), 1)
    past = [s for s in stretches if s >= stretch_count]
    if past:
        raise Refused(
            400,
            f"Stretch {past[0]} is past the end of the recording, which has {stretch_count} stretches of "
            f"{STRETCH_SECONDS} seconds (0 to {stretch_count - 1}).",
        )
