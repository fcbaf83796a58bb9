"""Turning a backend's ordered story ids into hits, with the visibility rule applied once more."""

from django.db.models import Prefetch

from stories.models import StoryPage, StoryParticipant

from ..query import StoryHit


def hits_in_order(story_ids, snippets, scores, moments) -> list[StoryHit]:
    """Load the stories behind the ids, keeping the backend's order and dropping any the public may no longer see."""
    stories = (
        StoryPage.objects.visible_to_public()
        .filter(pk__in=story_ids)
        .select_related("community", "recording")
        .prefetch_related(
            "themes", Prefetch("participants", queryset=StoryParticipant.objects.select_related("person"))
        )
        .in_bulk()
    )
    return [
        StoryHit(story=stories[pk], snippet=snippets[pk], score=scores[pk], moments=moments.get(pk, []))
        for pk in story_ids
        if pk in stories
    ]
