from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from .models import Community, StoryMedia, StoryPage, Theme


def community_detail(request, slug):
    community = get_object_or_404(Community, slug=slug)
    stories = StoryPage.objects.visible_to_public().filter(community=community).order_by("-first_published_at")
    page = Paginator(stories.select_related("community"), 20).get_page(request.GET.get("page"))
    return render(request, "stories/community_page.html", {"community": community, "stories": page})


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    stories = StoryPage.objects.visible_to_public().filter(themes=theme).order_by("-first_published_at")
    page = Paginator(stories.select_related("community"), 20).get_page(request.GET.get("page"))
    return render(request, "stories/theme_page.html", {"theme": theme, "stories": page})


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


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
