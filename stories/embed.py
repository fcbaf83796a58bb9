"""The embeddable player: /embed/stories/<id>/, the one address other sites may put in a frame.

Only a story the rule shows today is embedded; any other id is the ordinary 404, which names nothing.
"""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt

from storyarchive.middleware import content_security_policy

from .models import StoryPage

# Any site may frame the player; every other address keeps frame-ancestors 'none' and X-Frame-Options: DENY.
EMBED_FRAME_ANCESTORS = ["*"]


@xframe_options_exempt
def story_embed(request, story_id: int):
    story = StoryPage.objects.visible_to_public().select_related("recording", "community").filter(pk=story_id).first()
    if story is None:
        raise Http404("No story here.")
    context = story.get_context(request)
    context["embedded"] = True
    response = render(request, "stories/embed.html", context)
    response["Content-Security-Policy"] = content_security_policy(frame_ancestors=EMBED_FRAME_ANCESTORS)
    # As on the story page: the story may be hidden at any moment, so a cache must ask again each time.
    response["Cache-Control"] = "no-cache"
    return response
