"""Reads the public pages reuse."""

from django.db.models import Count, Prefetch, Q

from .models import CollectionPage, Community, StoryPage, Theme
from .models.pages import participants_as_listed

RELATED_CANDIDATES = 24


def related_stories(*, story: StoryPage, limit: int = 4) -> list[StoryPage]:
    """Public stories that share a theme or the community with this one, chosen so several generations speak.

    Stories sharing a theme come before those that only share the community; among them, each pick favours a story
    whose tellers add a generation not heard yet. A fixed number of queries.
    """
    # Read the relation as objects, not as database rows: a preview holds its themes in memory, unsaved.
    theme_ids = [theme.pk for theme in story.themes.all()]
    near = Q(community_id=story.community_id) if story.community_id else Q()
    if theme_ids:
        near |= Q(themes__in=theme_ids)
    if not near:
        return []
    candidates = list(
        StoryPage.objects.visible_to_public()
        .filter(near)
        .exclude(pk=story.pk)
        .distinct()
        .as_cards()
        .prefetch_related(
            Prefetch("participants", queryset=participants_as_listed()),
            "themes",
        )
        .order_by("-first_published_at", "pk")[:RELATED_CANDIDATES]
    )
    shared_theme = {c.pk for c in candidates if any(t.pk in theme_ids for t in c.themes.all())}
    candidates.sort(key=lambda c: c.pk not in shared_theme)  # stable: newest first within each group

    heard = _generations(story)
    chosen = []
    while candidates and len(chosen) < limit:
        best = max(candidates, key=lambda c: (len(_generations(c) - heard), -candidates.index(c)))
        candidates.remove(best)
        chosen.append(best)
        heard |= _generations(best)
    return chosen


def _generations(story: StoryPage) -> set[str]:
    return {generation.slug for generation in story.generations}


def public_story_count(relation: str) -> Count:
    """How many stories the public may see through `relation`, counted in the query that lists the rows."""
    visible = StoryPage.objects.visible_to_public().values("pk")
    return Count(relation, filter=Q(**{f"{relation}__in": visible}), distinct=True)


def communities_counted():
    """Every community, by name, with `public_stories`."""
    return Community.objects.annotate(public_stories=public_story_count("stories")).order_by("name")


def themes_counted():
    """Every theme, by name, with `public_stories`."""
    return Theme.objects.annotate(public_stories=public_story_count("stories")).order_by("name")


def collections_counted():
    """The collections the public may open, by title, with `public_stories` (entries whose stories it may see)."""
    return (
        CollectionPage.open_to_public().annotate(public_stories=public_story_count("entries__story")).order_by("title")
    )
