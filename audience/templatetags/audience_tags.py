from django import template

from ..selectors import story_public_listening

register = template.Library()


@register.simple_tag
def story_listening(story):
    """Whether the story's plays are counted (it is public), and "listened N times" when N may be shown."""
    return story_public_listening(story=story)
