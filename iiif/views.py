"""The manifests' URLs: public stories and open collections only, readable from any origin (IIIF viewers run on other
sites). A story can be hidden at any moment, so a public manifest may be stored by a shared cache only to be
revalidated (as StoryPage.serve answers), and a 404 is never stored."""

import hashlib
import json
import re

from django.http import HttpResponse, JsonResponse
from django.utils.http import quote_etag
from django.views.decorators.http import require_safe

from stories.api import MAX_STORY_ID
from stories.models import CollectionPage, StoryPage

from .manifests import CONTENT_TYPE, collection_manifest, story_manifest


def _page_id(text: str) -> int | None:
    """A page id from the address, or None for anything else: every wrong id gets the same JSON 404."""
    if re.fullmatch(r"[0-9]{1,10}", text) and 1 <= int(text) <= MAX_STORY_ID:
        return int(text)
    return None


def _not_found() -> HttpResponse:
    # The same answer for a story that does not exist and one the public may not see: nothing about it, not its title.
    response = JsonResponse({"detail": "No manifest here."}, status=404)
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _manifest_response(request, manifest: dict) -> HttpResponse:
    body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    etag = quote_etag(hashlib.sha256(body).hexdigest()[:32])
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def story_manifest_view(request, story_id: str):
    story_id = _page_id(story_id)
    story = (
        StoryPage.objects.visible_to_public()
        .filter(pk=story_id, recording__isnull=False)
        .select_related("community", "recording")
        .first()
        if story_id
        else None
    )
    if story is None:
        return _not_found()
    return _manifest_response(request, story_manifest(request, story))


@require_safe
def collection_manifest_view(request, collection_id: str):
    collection_id = _page_id(collection_id)
    collection = CollectionPage.open_to_public().filter(pk=collection_id).first() if collection_id else None
    if collection is None:
        return _not_found()
    entries = [entry for entry in collection.public_entries() if entry.story.recording_id]
    if not entries:
        # A Manifest needs at least one Canvas; a collection with no public recording has none to give.
        return _not_found()
    return _manifest_response(request, collection_manifest(request, collection, entries))
