"""What the figures do when the archive announces: a withdrawn story's figures go; a search that found nothing is
counted (its text only)."""

from django.utils import timezone

from search.signals import search_found_nothing
from stories.signals import stories_hidden, story_visibility_changed, story_withdrawn

# Longer texts are cut here: the figures are for spotting what people look for, not for keeping what they wrote.
MAX_TEXT = 200


def normalized_search_text(text: str) -> str:
    """Lower-cased, trimmed, runs of spaces made one."""
    return " ".join(text.split()).lower()[:MAX_TEXT]


def story_withdrawn_forget_figures(sender, story_id, **kwargs):
    from .services import story_figures_delete

    story_figures_delete(story_id=story_id)


def count_search_that_found_nothing(sender, text, **kwargs):
    from . import tally

    normalized = normalized_search_text(text or "")
    if normalized:
        tally.add_zero_result_search(text=normalized, day=timezone.localdate())


def connect() -> None:
    from . import playable

    # The beacon's answer of which stories may be heard, forgotten as the rule's stored answer changes.
    stories_hidden.connect(playable.stories_hidden_forget, dispatch_uid="audience-playable-hidden")
    story_visibility_changed.connect(playable.story_visibility_changed_forget, dispatch_uid="audience-playable-changed")
    story_withdrawn.connect(story_withdrawn_forget_figures, dispatch_uid="audience-withdrawn-figures")
    search_found_nothing.connect(count_search_that_found_nothing, dispatch_uid="audience-zero-result-search")
