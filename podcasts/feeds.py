"""Podcast feeds as RSS 2.0 documents, built with lxml, with the itunes: tags directories ask for and the Podcasting 2.0
tags the archive can fill truthfully: podcast:guid for the show, podcast:transcript for each episode's captions, and
podcast:chapters for an episode whose recording has chapters (a JSON chapters file at the story's address followed by
chapters.json; facilitators add chapters on the story's page in the admin).

A collection's start times belong to the collection, not the recording: they are not chapters.
"""

import dataclasses
import re
import uuid
from collections import Counter

from django.conf import settings
from django.urls import reverse
from django.utils.http import http_date
from lxml import etree

from stories.chapters import CHAPTERS_FILE, CHAPTERS_TYPE

from .selectors import Episode

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
# podcast:guid is a UUIDv5 of the feed's address (no scheme, no trailing slash) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
CATEGORY, SUBCATEGORY = "Society & Culture", "Documentary"
CAPTIONS = (("transcript.vtt", "text/vtt"), ("transcript.srt", "application/x-subrip"))
CHAPTERS = (CHAPTERS_FILE, CHAPTERS_TYPE)
_ANY_ID = uuid.UUID(int=0)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclasses.dataclass
class Show:
    """What a feed is about: its title, description, page, own address and image, and whether it plays in order."""

    title: str
    description: str
    link: str
    feed_url: str
    image_url: str = ""
    serial: bool = False


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 show guid for a feed address."""
    seed = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, seed))


def episode_guid(episode: Episode) -> str:
    """Stable through renames and moves, with no title words: the page's translation key."""
    return f"urn:uuid:{episode.guid}"


def _text(value) -> str:
    return _NOT_XML.sub("", str(value))


def _add(parent, tag: str, text=None, **attributes):
    element = etree.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _description(episode: Episode) -> str:
    """The summary, after the content notes: a listener meets them before pressing play, as on the story page."""
    summary = episode.summary or episode.title
    return f"Content notes: {', '.join(episode.content_notes)}. {summary}" if episode.content_notes else summary


def feed_document(show: Show, episodes: list[Episode], *, request) -> bytes:
    """The RSS document, with full addresses on the host the request was made to."""
    rss = etree.Element("rss", {"version": "2.0"}, nsmap={"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM})
    channel = _add(rss, "channel")
    _add(channel, "title", show.title)
    _add(channel, "link", show.link)
    _add(channel, "description", show.description)
    languages = Counter(episode.language for episode in episodes)
    _add(channel, "language", languages.most_common(1)[0][0] if languages else settings.LANGUAGE_CODE)
    _add(channel, f"{{{ATOM}}}link", href=show.feed_url, rel="self", type="application/rss+xml")
    _add(channel, "generator", settings.WAGTAIL_SITE_NAME)
    _add(channel, f"{{{ITUNES}}}author", settings.WAGTAIL_SITE_NAME)
    if show.image_url:
        _add(channel, f"{{{ITUNES}}}image", href=show.image_url)
    category = _add(channel, f"{{{ITUNES}}}category", text=CATEGORY)
    _add(category, f"{{{ITUNES}}}category", text=SUBCATEGORY)
    _add(channel, f"{{{ITUNES}}}explicit", "false")
    _add(channel, f"{{{ITUNES}}}type", "serial" if show.serial else "episodic")
    _add(channel, f"{{{PODCAST}}}guid", podcast_guid(show.feed_url))
    origin = request.build_absolute_uri("/").rstrip("/")
    # Every recording's address differs from this one by its id only: reversed once, not once an item.
    recording_address = reverse("stories:recording", args=[_ANY_ID, "access"])
    for number, episode in enumerate(episodes, start=1):
        enclosure = origin + recording_address.replace(str(_ANY_ID), str(episode.media_id))
        _add_item(channel, episode, origin=origin, enclosure=enclosure, number=number if show.serial else None)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8")


def _add_item(channel, episode: Episode, *, origin: str, enclosure: str, number: int | None) -> None:
    story_url = origin + episode.path
    item = _add(channel, "item")
    _add(item, "title", episode.title)
    _add(item, "link", story_url)
    _add(item, "description", _description(episode))
    _add(item, "guid", episode_guid(episode), isPermaLink="false")
    if episode.published_at:
        _add(item, "pubDate", http_date(episode.published_at.timestamp()))
    _add(item, "enclosure", url=enclosure, length=str(episode.access_bytes), type=episode.media_type or "audio/mp4")
    if episode.duration_seconds:
        _add(item, f"{{{ITUNES}}}duration", str(round(episode.duration_seconds)))
    _add(item, f"{{{ITUNES}}}episodeType", "full")
    if number is not None:
        _add(item, f"{{{ITUNES}}}episode", str(number))
    if episode.transcript_language:
        for name, media_type in CAPTIONS:
            _add(
                item,
                f"{{{PODCAST}}}transcript",
                url=f"{story_url}{name}",
                type=media_type,
                language=episode.transcript_language,
                rel="captions",
            )
    if episode.has_chapters:
        name, media_type = CHAPTERS
        _add(item, f"{{{PODCAST}}}chapters", url=f"{story_url}{name}", type=media_type)
