"""Files that hang off a story's own URL (transcript.vtt and the like), registered by the apps that make them.

The stories app cannot import the apps above it, so they register a view here when they start; StoryPage.route
dispatches to it after the visibility rule has been applied.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

StoryView = Callable[[HttpRequest, "object"], HttpResponse]
story_routes: dict[str, StoryView] = {}


def register_story_route(name: str, view: StoryView) -> None:
    story_routes[name] = view
