"""Recordings are served only here, after the visibility rule."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from .models import StoryMedia, StoryPage


def recording_file(request, media_id, variant):
    """Serve a recording's access copy, original or poster, to whoever may see a story that uses it."""
    media = get_object_or_404(StoryMedia, pk=media_id)
    stories = StoryPage.objects.filter(recording=media)
    if not any(story.can_be_seen_by(request.user) for story in stories):
        raise Http404("No recording here.")
    field = {"access": media.access_copy or media.file, "original": media.file, "poster": media.poster}.get(variant)
    if not field:
        raise Http404("No such file.")
    response = FileResponse(field.open("rb"))
    public = StoryPage.objects.visible_to_public().filter(recording=media).exists()
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response
