"""What every public page tells link previews and search engines: its title (once), a summary, an image, its
canonical address (OpenGraph and Twitter card tags) and JSON-LD in schema.org's words.

Only what the page itself shows goes in: a story's page is answered only when the rule allows it (StoryPage.serve),
and a listing's metadata names the listing, never the stories in it.
"""

import json
from dataclasses import dataclass, field

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from wagtail.images.models import SourceImageIOError
from wagtail.models import Site

from stories.citations import storytellers_of
from stories.models import CollectionPage, Community, HomePage, StoryIndexPage, StoryPage, Theme

register = template.Library()

SITE_DESCRIPTION = "Stories told across generations about the conditions that let people thrive."
# Listings that are not Wagtail pages, by their URL name: their title and schema.org type.
NAMED_LISTINGS = {
    "communities": ("Communities", "CollectionPage"),
    "themes": ("Themes", "CollectionPage"),
    "collections": ("Collections", "CollectionPage"),
    "search": ("Search", "SearchResultsPage"),
}
# Characters that would let JSON end the script element it sits in, written as JSON escapes instead.
JSON_IN_HTML = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
SUMMARY_LENGTH = 200


def title_of(name: str | None) -> str:
    """ "Name · Story Archive", or the archive's name alone when the page is named after the archive."""
    site = settings.WAGTAIL_SITE_NAME
    name = (name or "").strip()
    if not name or name.casefold() == site.casefold():
        return site
    return f"{name} · {site}"


@register.simple_tag
def page_title(page) -> str:
    """The <title> of a Wagtail page: its SEO title or title, followed by the archive's name only once."""
    return title_of((page.seo_title or page.title) if page else None)


@dataclass
class PageMetadata:
    title: str
    description: str
    canonical: str
    image: str = ""
    og_type: str = "website"
    structured: dict = field(default_factory=dict)


def summary(text: str) -> str:
    return Truncator(" ".join(strip_tags(text or "").split())).chars(SUMMARY_LENGTH)


def image_address(root: str, image) -> str:
    if not image:
        return ""
    try:
        return f"{root}{image.get_rendition('fill-1200x630').url}"
    except SourceImageIOError:
        return ""  # the picture's file is missing: the page goes without a preview image rather than failing


def iso_duration(seconds: float | None) -> str | None:
    return f"PT{round(seconds)}S" if seconds else None


def story_metadata(story: StoryPage, root: str, canonical: str, transcript) -> PageMetadata:
    media = story.recording if story.recording_id else None
    image = image_address(root, story.cover_image)
    if media is not None and media.has_video and media.poster:
        image = image or f"{root}{reverse('stories:recording', args=[media.id, 'poster'])}"
    description = summary(story.summary) or SITE_DESCRIPTION
    structured = {
        "name": story.title,
        "description": description,
        "url": canonical,
        "inLanguage": story.language,
        "publisher": {"@type": "Organization", "name": settings.WAGTAIL_SITE_NAME, "url": root + "/"},
    }
    tellers = storytellers_of(story)
    if tellers:
        structured["creator"] = [{"@type": "Person", "name": name} for name in tellers]
    if story.recorded_on:
        structured["dateCreated"] = story.recorded_on.isoformat()
    if story.community_id:
        place = {"@type": "Place", "name": story.community.name}
        if story.community.place:
            place["address"] = story.community.place
        structured["locationCreated"] = place
    if media is not None:
        structured["@type"] = "VideoObject" if media.has_video else "AudioObject"
        structured["contentUrl"] = f"{root}{reverse('stories:recording', args=[media.id, 'access'])}"
        structured["encodingFormat"] = media.access_content_type or media.content_type
        structured["embedUrl"] = f"{root}{reverse('stories:embed', args=[story.pk])}"
        if duration := iso_duration(media.duration_seconds):
            structured["duration"] = duration
        if story.last_published_at:
            structured["uploadDate"] = story.last_published_at.isoformat()
        if image:
            structured["thumbnailUrl"] = image
        if transcript is not None and transcript.lines:
            structured["transcript"] = " ".join(line.text.strip() for line in transcript.lines)
            structured["caption"] = {
                "@type": "MediaObject",
                "contentUrl": f"{canonical}transcript.vtt",
                "encodingFormat": "text/vtt",
            }
    else:
        structured["@type"] = "Article"
        structured["headline"] = Truncator(story.title).chars(110)
    if image:
        structured["image"] = image
    og_type = "video.other" if media is not None and media.has_video else "article"
    return PageMetadata(story.title, description, canonical, image, og_type, structured)


def describe(context, transcript) -> PageMetadata:
    request = context["request"]
    site = Site.find_for_request(request)
    root = site.root_url if site else request.build_absolute_uri("/").rstrip("/")
    page = context.get("page")
    canonical = page.get_full_url(request) if page is not None and hasattr(page, "get_full_url") else None
    canonical = canonical or f"{root}{request.path}"
    if isinstance(page, StoryPage):
        return story_metadata(page, root, canonical, transcript)
    if isinstance(page, HomePage):
        structured = {
            "@type": "WebSite",
            "name": settings.WAGTAIL_SITE_NAME,
            "url": canonical,
            "potentialAction": {
                "@type": "SearchAction",
                "target": f"{root}{reverse('search:search')}?q={{query}}",
                "query-input": "required name=query",
            },
        }
        return PageMetadata(settings.WAGTAIL_SITE_NAME, summary(page.intro) or SITE_DESCRIPTION, canonical,
                            structured=structured)  # fmt: skip
    if isinstance(page, CollectionPage | StoryIndexPage):
        return PageMetadata(page.seo_title or page.title, summary(page.intro) or SITE_DESCRIPTION, canonical,
                            structured={"@type": "CollectionPage"})  # fmt: skip
    community, theme = context.get("community"), context.get("theme")
    if isinstance(community, Community):
        about = {"@type": "Place", "name": community.name} | ({"address": community.place} if community.place else {})
        description = summary(community.description) or f"Stories from {community.name}."
        return PageMetadata(community.name, description, canonical, image_address(root, community.image),
                            structured={"@type": "CollectionPage", "about": about})  # fmt: skip
    if isinstance(theme, Theme):
        description = summary(theme.description) or f"Stories about {theme.name.lower()}."
        return PageMetadata(theme.name, description, canonical,
                            structured={"@type": "CollectionPage", "about": {"@type": "Thing", "name": theme.name}})  # fmt: skip
    match = request.resolver_match
    name, kind = NAMED_LISTINGS.get(match.url_name if match else "", ("", "WebPage"))
    if page is not None:
        name = name or getattr(page, "title", "")
    return PageMetadata(name or settings.WAGTAIL_SITE_NAME, SITE_DESCRIPTION, canonical, structured={"@type": kind})


def as_json_ld(metadata: PageMetadata) -> str:
    data = {"@context": "https://schema.org"} | metadata.structured
    data.setdefault("name", metadata.title)
    data.setdefault("url", metadata.canonical)
    data.setdefault("description", metadata.description)
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(JSON_IN_HTML))  # noqa: S308 - escaped above


@register.inclusion_tag("stories/includes/metadata.html", takes_context=True)
def page_metadata(context, transcript=None):
    """OpenGraph, Twitter card, canonical link and JSON-LD for the page being shown. A story page passes its
    transcript, which the JSON-LD of a recording carries."""
    metadata = describe(context, transcript)
    return {
        "metadata": metadata,
        "site_name": settings.WAGTAIL_SITE_NAME,
        "json_ld": as_json_ld(metadata),
    }
