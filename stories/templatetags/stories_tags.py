from django import template

from stories.selectors import related_stories as select_related_stories
from stories.timecodes import Clip, clip_from, format_clock

register = template.Library()


@register.filter
def clock(seconds) -> str:
    """135 -> 02:15, 3735 -> 1:02:15."""
    try:
        return format_clock(float(seconds))
    except (TypeError, ValueError):
        return ""


@register.filter
def kind_label(kind: str) -> str:
    """audio -> Audio, text -> Written."""
    from stories.models import StoryKind

    return StoryKind(kind).label if kind in StoryKind.values else kind


@register.simple_tag
def related_stories(story, limit: int = 4, themes=None):
    """Public stories near this one in theme or community, mixing generations (`themes`: the story's, if read)."""
    return select_related_stories(story=story, limit=limit, themes=themes)


@register.simple_tag
def listening_clip(request, story) -> Clip | None:
    """The clip a ?t= link asks for (135, 02:15, or 135,170 for a stretch), fitted to the story's recording; None
    without one."""
    if request is None:
        return None
    duration = story.recording.duration_seconds if story.recording_id else None
    return clip_from(request.GET.get("t"), duration=duration)


@register.inclusion_tag("stories/includes/share_moment.html", takes_context=True)
def share_moment(context, story, clip: Clip | None = None):
    """ "Share this moment": the clip's link, its citation and the embeddable player's code, for the clip the page was
    opened with (the whole story without one); the page's script follows the times the visitor chooses."""
    from django.urls import reverse

    from stories.citations import CITATION_STYLE, story_citation

    request = context["request"]
    address = story.get_full_url(request)
    embed_address = address.removesuffix(story.get_url(request)) + reverse("stories:embed", args=[story.pk])
    asked = clip if clip is not None and not clip.problem and (clip.start or clip.end is not None) else None
    query = f"?t={asked.parameter}" if asked else ""
    citation = story_citation(story, address=address + query, clip=asked)
    return {
        "story": story,
        "clip": asked,
        "address": address,
        "link": address + query,
        "citation": citation,
        "citation_style": CITATION_STYLE,
        "embed_address": embed_address,
        "embed_code": embed_code(embed_address + query, story.title),
    }


def embed_code(address: str, title: str) -> str:
    """The HTML another site pastes to show the player (the page's script builds the same for other times)."""
    from django.utils.html import format_html

    return format_html(
        '<iframe src="{}" title="{}" width="560" height="420" allow="autoplay; fullscreen" loading="lazy" '
        'style="border:0;max-width:100%"></iframe>',
        address,
        f"{title} (Story Archive)",
    )
