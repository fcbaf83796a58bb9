"""Thin index tasks: they take a story id and call the service; the worker runs them."""

from django_tasks import task

from .services import search_index_verify, story_index_refresh


@task()
def refresh_story_index(story_id: int) -> str:
    return story_index_refresh(story_id=story_id)


@task()
def verify_search_index() -> int:
    """The reconciler, on a schedule: returns how many stories were out of place."""
    return search_index_verify(repair=True).drift
