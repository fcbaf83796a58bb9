"""Thin index tasks: they take a story id and call the service; the worker runs them."""

from django_tasks import task

from .services import story_index_refresh


@task()
def refresh_story_index(story_id: int) -> str:
    return story_index_refresh(story_id=story_id)
