"""What every backend does after its own search: ids into hits (the visibility rule once more), slugs into labels."""

import datetime
import functools

from django.db.models import Prefetch
from django.utils import timezone
from wagtail.models import PageViewRestriction

from stories.generations import BY_SLUG
from stories.models import Community, StoryKind, StoryPage, StoryParticipant, Theme
from stories.validators import language_label

from ..query import StoryHit


def visible_story_ids(story_ids) -> set[int]:
    """Which of these stories the public may see now: the rule, run on a handful of ids."""
    return set(StoryPage.objects.visible_to_public().filter(pk__in=list(story_ids)).values_list("pk", flat=True))


def forget_stale(story_ids) -> None:
    """The index still holds stories the public may no longer see: queue their removal."""
    from ..tasks import refresh_story_index

    for story_id in story_ids:
        refresh_story_index.enqueue(story_id)


@functools.lru_cache(maxsize=1)
def _displayable(today: datetime.date, restricted: tuple[str, ...]):
    """The rule's queryset, built again only when the day or the pages behind a view restriction change: building its
    nested subqueries costs more than running it on a page. Wagtail's public() reads the restrictions once, when the
    queryset is built, so a queryset kept past a new restriction would still show the pages behind it."""
    return (
        StoryPage.objects.visible_to_public(today=today)
        .select_related("community", "recording")
        .prefetch_related(
            "themes", Prefetch("participants", queryset=StoryParticipant.objects.select_related("person"))
        )
    )


def visible_stories(story_ids) -> dict:
    """The stories behind the ids that the public may see now, loaded for display; queue the others' removal."""
    restricted = tuple(PageViewRestriction.objects.order_by("pk").values_list("page__path", flat=True))
    stories = _displayable(timezone.localdate(), restricted).filter(pk__in=list(story_ids)).in_bulk()
    forget_stale({pk for pk in story_ids if pk not in stories})
    return stories


def hits_in_order(story_ids, snippets, scores, moments, *, stories=None) -> list[StoryHit]:
    """Hits in the backend's order, leaving out any story the public may no longer see."""
    if stories is None:
        stories = visible_stories(story_ids)
    return [
        StoryHit(story=stories[pk], snippet=snippets[pk], score=scores[pk], moments=moments.get(pk, []))
        for pk in story_ids
        if pk in stories
    ]


def facet_labels(facet: str, values: list[str]) -> dict[str, str]:
    """The words a visitor reads for each facet value."""
    if facet == "theme":
        return dict(Theme.objects.filter(slug__in=values).values_list("slug", "name"))
    if facet == "community":
        return dict(Community.objects.filter(slug__in=values).values_list("slug", "name"))
    if facet == "generation":
        return {v: BY_SLUG[v].label for v in values if v in BY_SLUG}
    if facet == "language":
        return {v: language_label(v) for v in values}
    return {v: StoryKind(v).label for v in values if v in StoryKind.values}
