"""Podcast feeds at a listing's own address followed by feed.xml: /communities/<slug>/feed.xml,
/themes/<slug>/feed.xml and /collections/<slug>/feed.xml (a collection by its page's slug).

Feeds are public and answer conditional requests (ETag from the document itself, Last-Modified from the last change
to the stored answer or to an episode's transcript), with `Cache-Control: no-cache` as every public page has: a story
can be hidden at any moment, so a cache may keep a feed only to ask again each time.
"""

import hashlib
import time

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response
from django.utils.html import strip_tags
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe
from wagtail.models import Site

from stories.models import CollectionPage, Community, Theme

from . import selectors
from .feeds import Show, feed_document

IMAGE_RENDITION = "fill-1400x1400|format-jpeg"  # podcast directories ask for a square of 1400 to 3000 pixels


@require_safe
def community_feed(request, slug):
    community = get_object_or_404(Community, slug=slug)
    place = f" in {community.place}" if community.place else ""
    show = Show(
        title=f"{community.name} · {settings.WAGTAIL_SITE_NAME}",
        description=community.description or f"Stories told across generations by {community.name}{place}.",
        link=request.build_absolute_uri(community.get_absolute_url()),
        feed_url=_canonical_feed_url(request),
        image_url=_image_url(request, community.image),
    )
    return _feed(request, show, selectors.community_story_ids(community))


@require_safe
def theme_feed(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    show = Show(
        title=f"{theme.name} · {settings.WAGTAIL_SITE_NAME}",
        description=theme.description or f"Stories told across generations about {theme.name.lower()}.",
        link=request.build_absolute_uri(theme.get_absolute_url()),
        feed_url=_canonical_feed_url(request),
    )
    return _feed(request, show, selectors.theme_story_ids(theme))


@require_safe
def collection_feed(request, slug):
    collection = get_object_or_404(CollectionPage.open_to_public(), slug=slug)
    curated = f", chosen by {collection.curator}" if collection.curator else ""
    show = Show(
        title=f"{collection.title} · {settings.WAGTAIL_SITE_NAME}",
        description=strip_tags(collection.intro).strip() or f"Stories to hear in order{curated}.",
        link=request.build_absolute_uri(collection.get_url(request)),
        feed_url=_canonical_feed_url(request),
        serial=True,
    )
    return _feed(request, show, selectors.collection_story_ids(collection), changed_at=collection.last_published_at)


def _feed(request, show: Show, story_ids: list[int], *, changed_at=None) -> HttpResponse:
    episodes = selectors.episodes(story_ids)
    body = feed_document(show, episodes, request=request)
    moments = [selectors.last_change(), changed_at] + [episode.transcript_changed_at for episode in episodes]
    last_modified = max((moment.timestamp() for moment in moments if moment), default=None)
    if last_modified is not None and int(last_modified) >= int(time.time()):
        # HTTP dates count whole seconds: a date in the second still running could be followed by a change within it,
        # and a podcast app asking If-Modified-Since would then be told nothing changed. The ETag answers for now.
        last_modified = None
    response = HttpResponse(body, content_type="application/rss+xml; charset=utf-8")
    response["ETag"] = quote_etag(hashlib.sha256(body).hexdigest()[:32])
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "no-cache"
    return get_conditional_response(
        request,
        etag=response["ETag"],
        last_modified=int(last_modified) if last_modified is not None else None,
        response=response,
    )


def _canonical_feed_url(request) -> str:
    """The feed's address on the archive's own site, whatever host was asked: podcast:guid is made from it once."""
    site = Site.objects.filter(is_default_site=True).first()
    return f"{site.root_url}{request.path}" if site else request.build_absolute_uri(request.path)


def _image_url(request, image) -> str:
    if image is None:
        return ""
    try:
        return request.build_absolute_uri(image.get_rendition(IMAGE_RENDITION).url)
    except OSError:  # the original image is missing (SourceImageIOError) or unreadable
        return ""
