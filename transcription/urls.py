"""Public URLs for transcript files at a story's own address (/stories/my-story/transcript.vtt).

Wagtail's catch-all pattern only matches paths of slash-ended words, so names with a dot never reach
StoryPage.route. This pattern hands them to Wagtail's own serve view, which routes to the page, applies the
visibility rule in StoryPage.serve, and calls the view registered in stories.routes. Include it before wagtail_urls.
"""

from django.urls import re_path
from wagtail import views as wagtail_views

urlpatterns = [
    re_path(r"^((?:[\w\-]+/)+transcript\.(?:vtt|srt|txt))$", wagtail_views.serve, name="story-transcript-file"),
]
