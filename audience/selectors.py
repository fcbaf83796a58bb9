"""Reading the figures: for a story's public page, and for the facilitators' reports."""

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from stories.models import StoryPage

from .models import StoryListeningDay

# A public page says how often a story was heard only from this many plays: fewer could point at one listener.
PUBLIC_LISTENS_MINIMUM = 5


@dataclass(frozen=True)
class PublicListening:
    """What a story's public page may say: whether its plays are counted at all, and the count when it may show it."""

    counted: bool
    times: int | None = None


def story_public_listening(*, story: StoryPage) -> PublicListening:
    """One query: the rule's answer for this story and its plays in all; a hidden story is not counted."""
    if story.pk is None:
        return PublicListening(counted=False)
    plays = (
        StoryListeningDay.objects.filter(story=OuterRef("pk"))
        .order_by()
        .values("story")
        .annotate(total=Sum("plays"))
        .values("total")
    )
    found = list(
        StoryPage.objects.visible_to_public()
        .filter(pk=story.pk)
        .annotate(times=Coalesce(Subquery(plays), 0))
        .values_list("times", flat=True)
    )
    if not found:
        return PublicListening(counted=False)
    times = found[0]
    return PublicListening(counted=True, times=times if times >= PUBLIC_LISTENS_MINIMUM else None)


def period_start(days: int | None, *, today: datetime.date) -> datetime.date | None:
    return today - datetime.timedelta(days=days - 1) if days else None
