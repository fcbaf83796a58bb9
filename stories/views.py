from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from .models import CollectionPage, Community, StoryPage, Theme


def public_story_count(relation: str) -> Count:
    """How many stories the public may see through `relation`, counted in the same query as the rows it annotates."""
    visible = StoryPage.objects.visible_to_public().values("pk")
    return Count(relation, filter=Q(**{f"{relation}__in": visible}), distinct=True)


def community_index(request):
    communities = Community.objects.annotate(public_stories=public_story_count("stories")).order_by("name")
    return render(request, "stories/community_index.html", {"communities": communities})


def theme_index(request):
    themes = Theme.objects.annotate(public_stories=public_story_count("stories")).order_by("name")
    return render(request, "stories/theme_index.html", {"themes": themes})


def collection_index(request):
    collections = (
        CollectionPage.open_to_public().annotate(public_stories=public_story_count("entries__story")).order_by("title")
    )
    return render(request, "stories/collection_index.html", {"collections": collections})


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
