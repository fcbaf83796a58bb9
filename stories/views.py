from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from .models import Community, StoryPage, Theme
from .selectors import collections_counted, communities_counted, themes_counted


def community_index(request):
    return render(request, "stories/community_index.html", {"communities": communities_counted()})


def theme_index(request):
    return render(request, "stories/theme_index.html", {"themes": themes_counted()})


def collection_index(request):
    return render(request, "stories/collection_index.html", {"collections": collections_counted()})


def community_detail(request, slug):
    community = get_object_or_404(Community, slug=slug)
    stories = StoryPage.objects.visible_to_public().filter(community=community).order_by("-first_published_at")
    page = Paginator(stories.as_cards(), 20).get_page(request.GET.get("page"))
    return render(request, "stories/community_page.html", {"community": community, "stories": page})


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    stories = StoryPage.objects.visible_to_public().filter(themes=theme).order_by("-first_published_at")
    page = Paginator(stories.as_cards(), 20).get_page(request.GET.get("page"))
    return render(request, "stories/theme_page.html", {"theme": theme, "stories": page})


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
