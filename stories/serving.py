"""Recordings are served only here, after the visibility rule, with byte ranges so players can seek.

The public hears the access copy only, never the original (which may carry a phone's location and comments); until
the copy exists the recording answers "being prepared" with no bytes. Public files carry validators but
`Cache-Control: no-cache`: a story can be hidden at any moment, so no cache may answer for it without asking again.
Anything else is `private, no-store` and carries no validators, so an anonymous visitor can never learn from an ETag,
a 304 or a 412 that a restricted file exists or has changed.

With recordings in an S3-compatible bucket (PRIVATE_STORAGE_URL) the bytes are streamed through here, a range asked
of the bucket for a range asked of us, rather than by a redirect to a presigned URL. A presigned URL is a bearer
ticket: it would go on working for its whole life after a withdrawal, any cache or person holding it could replay
it, the bucket would have to be reachable from every listener's browser, and the player's Content-Security-Policy
(`media-src 'self'`) would have to name it. Streamed, the rule is asked on every request, so the request after a
withdrawal is refused; the bucket can stay on a private network; and the answers (206, 416, validators, `no-cache`)
are the ones the disk gives. The cost is a web process busy while bytes flow, as without nginx's X-Accel-Redirect,
which only serves recordings from the disk (the settings refuse it with a bucket).
"""

import mimetypes
import re

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header, http_date, quote_etag
from django.views.decorators.http import require_safe

from .models import StoryMedia, StoryPage, private_storage
from .storage import stored_file

CHUNK_SIZE = 256 * 1024
# More range specs than this in one request is not a media player seeking; answer with the whole file instead.
MAX_RANGES = 8
_RANGE_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class Unsatisfiable(Exception):
    pass


def requested_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range (first, last) to send, or None to send the whole file.

    Raises Unsatisfiable when no requested range overlaps the file. Overlapping and adjacent ranges are merged;
    several ranges that stay apart, or too many ranges, are answered with the whole file, as RFC 9110 allows.
    """
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs:
        return None
    parts = specs.split(",")
    if len(parts) > MAX_RANGES:
        return None
    ranges = []
    for part in parts:
        match = _RANGE_SPEC.match(part)
        if not match or match.groups() == ("", ""):
            return None  # a malformed header is ignored, not an error
        first, last = match.groups()
        if first == "":
            suffix = int(last)
            if suffix == 0:
                continue
            ranges.append((max(size - suffix, 0), size - 1))
            continue
        first = int(first)
        if last and int(last) < first:
            return None  # invalid, so the whole header is ignored
        if first >= size:
            continue
        last = int(last) if last else size - 1
        ranges.append((first, min(last, size - 1)))
    if not ranges or size == 0:
        raise Unsatisfiable
    ranges.sort()
    merged = [ranges[0]]
    for first, last in ranges[1:]:
        if first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged[0] if len(merged) == 1 else None


def private_file_response(
    request, *, relative_path: str, content_type: str, public: bool, download_name: str = ""
) -> HttpResponse:
    """Answer with a file from private storage, honouring Range; validators and caching only when public."""
    try:
        stored = stored_file(private_storage(), relative_path)
    except FileNotFoundError as error:
        raise Http404("No such file.") from error
    size = stored.size
    mtime = stored.modified.timestamp()
    etag = quote_etag(f"{int(mtime * 1_000_000):x}-{size:x}")

    if public:
        if_none_match = request.headers.get("If-None-Match", "")
        if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
            response = HttpResponse(status=304)
            _finish_headers(response, public=True, etag=etag, mtime=mtime)
            return response

    range_header = request.headers.get("Range", "")
    if range_header and public and request.headers.get("If-Range") not in (None, etag):
        range_header = ""  # the client's copy is stale: send the whole file
    try:
        byte_range = requested_range(range_header, size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        _finish_headers(response, public=public, etag=etag, mtime=mtime)
        return response

    accel_prefix = getattr(settings, "STORY_MEDIA_ACCEL_REDIRECT", "")
    if accel_prefix:
        # nginx serves the bytes (and the ranges) from an internal location; we only decided who may have them.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + relative_path.lstrip("/")
    elif byte_range is None:
        response = StreamingHttpResponse(stored.chunks(0, size, chunk_size=CHUNK_SIZE), content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        first, last = byte_range
        length = last - first + 1
        response = StreamingHttpResponse(
            stored.chunks(first, length, chunk_size=CHUNK_SIZE), status=206, content_type=content_type
        )
        response["Content-Length"] = str(length)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    _finish_headers(response, public=public, etag=etag, mtime=mtime)
    return response


def _finish_headers(response, *, public: bool, etag: str, mtime: float) -> None:
    if public:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(mtime)
        # Stored by a shared cache only to be revalidated: a hidden story answers 404 to the next request at once.
        response["Cache-Control"] = "no-cache"
    else:
        response["Cache-Control"] = "private, no-store"


VARIANTS = ("access", "original", "poster")
BEING_PREPARED_RETRY_SECONDS = 60


def recording_being_prepared() -> HttpResponse:
    """The answer while a recording's access copy is not made (or could not be): no bytes, try again later."""
    response = HttpResponse(
        "This recording is being prepared for listening. Please try again in a few minutes.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(BEING_PREPARED_RETRY_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def recording_file(request, media_id, variant):
    """Serve a recording's access copy, original or poster, to whoever may see a story that uses it."""
    if variant not in VARIANTS:
        raise Http404("No such file.")
    media = get_object_or_404(StoryMedia, pk=media_id)
    stories = StoryPage.objects.filter(recording=media, withdrawn_at__isnull=True)
    if not any(story.can_be_seen_by(request.user) for story in stories):
        raise Http404("No recording here.")
    if variant == "original" and not any(story.permissions_for_user(request.user).can_edit() for story in stories):
        # The preservation master may carry location and other tags; the public hears the access copy.
        raise Http404("No recording here.")
    public = StoryPage.objects.visible_to_public().filter(recording=media).exists()
    if variant == "poster":
        field, content_type = media.poster, ""
    elif variant == "access":
        if not media.access_copy:
            return recording_being_prepared()
        field, content_type = media.access_copy, media.access_content_type
    else:
        field, content_type = media.file, media.content_type
    if not field:
        raise Http404("No such file.")
    content_type = content_type or mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    return private_file_response(request, relative_path=field.name, content_type=content_type, public=public)
