from django import template

from ..selectors import story_public_listening

register = template.Library()


@register.simple_tag
def story_listening(story, public: bool | None = None):
    """Whether the story's plays are counted (it is public), and "listened N times" when N may be shown. `public` is
    the rule's answer the page was served with; without it (a preview) the rule is asked."""
    return story_public_listening(story=story, public=public)
