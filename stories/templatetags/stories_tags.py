from django import template

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
