from django.shortcuts import get_object_or_404, render

from .models import Community, Dialogue, Theme
from .selectors import (
    InvalidCursor,
    StoryList,
    collections_counted,
    communities_counted,
    dialogues_counted,
    public_stories_listed,
    themes_counted,
)


def story_list_for(request, **narrowed) -> StoryList:
    """The page of public stories the request's `after` or `before` asks for (the first page without either).
    Raises InvalidCursor for a place no list handed out."""
    return public_stories_listed(after=request.GET.get("after"), before=request.GET.get("before"), **narrowed)


def listing_refused(request, error: InvalidCursor):
    return render(request, "400.html", {"message": str(error)}, status=400)


def community_index(request):
    return render(request, "stories/community_index.html", {"communities": communities_counted()})


def theme_index(request):
    return render(request, "stories/theme_index.html", {"themes": themes_counted()})


def collection_index(request):
    return render(request, "stories/collection_index.html", {"collections": collections_counted()})


def dialogue_index(request):
    return render(request, "stories/dialogue_index.html", {"dialogues": dialogues_counted()})


def dialogue_detail(request, slug):
    dialogue = get_object_or_404(Dialogue.objects.select_related("community"), slug=slug)
    try:
        stories = story_list_for(request, dialogue=dialogue)
    except InvalidCursor as error:
        return listing_refused(request, error)
    return render(request, "stories/dialogue_page.html", {"dialogue": dialogue, "stories": stories})


def community_detail(request, slug):
    community = get_object_or_404(Community, slug=slug)
    try:
        stories = story_list_for(request, community=community)
    except InvalidCursor as error:
        return listing_refused(request, error)
    return render(request, "stories/community_page.html", {"community": community, "stories": stories})


def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    try:
        stories = story_list_for(request, theme=theme)
    except InvalidCursor as error:
        return listing_refused(request, error)
    return render(request, "stories/theme_page.html", {"theme": theme, "stories": stories})


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
