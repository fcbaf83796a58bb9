from django import template

from stories.selectors import related_stories as select_related_stories
from stories.timecodes import format_clock

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
def related_stories(story, limit: int = 4):
    """Public stories near this one in theme or community, mixing generations."""
    return select_related_stories(story=story, limit=limit)


@register.simple_tag
def listen_from(request) -> int | None:
    """The second a ?t= link asks to start at (135, 135.5 or 02:15), or None when absent or unreadable."""
    raw = (request.GET.get("t") or "").strip() if request else ""
    if not raw or len(raw) > 12:
        return None
    try:
        if ":" in raw:
            seconds = 0
            for part in raw.split(":"):
                seconds = seconds * 60 + int(part)
        else:
            seconds = int(float(raw))
    except (ValueError, OverflowError):
        return None
    return seconds if seconds >= 0 else None
