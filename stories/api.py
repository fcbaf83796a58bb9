"""GET /api/stories: public stories only, never full names or birth years. transcription.api adds /{id}. And the
ways in: /api/communities, /api/themes and /api/collections, counting public stories only."""

import datetime

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from .models import StoryPage
from .models.pages import participants_as_listed
from .selectors import collections_counted, communities_counted, themes_counted

router = Router(tags=["stories"])

# Story ids are Wagtail page ids, a 32-bit integer column in every database Wagtail supports.
MAX_STORY_ID = 2**31 - 1
# 20 stories a page by default; ten thousand pages reach further than any archive this serves.
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in words a person can act on.")


class ValidationProblem(Schema):
    type: str
    loc: list[str | int] = Field(description="Where the value was: query or path, then the parameter's name.")
    msg: str


class ValidationErrorOut(Schema):
    detail: list[ValidationProblem]


# Every operation may answer these: 400 for a character no database can store (storyarchive.middleware) or a
# parameter the operation refuses, 422 for a value outside the bounds this schema states.
ERROR_RESPONSES = {400: ErrorOut, 422: ValidationErrorOut}


class StoryPagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description="Which page of results, from 1.")
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE, description="Stories a page (20 unless set).")


class NamedRef(Schema):
    slug: str
    name: str


class GenerationOut(Schema):
    slug: str
    label: str


class ParticipantOut(Schema):
    display_name: str
    role: str
    generation: GenerationOut

    @staticmethod
    def resolve_display_name(participant):
        return participant.person.display_name

    @staticmethod
    def resolve_generation(participant):
        return participant.person.generation


class StoryOut(Schema):
    id: int
    title: str
    url: str
    summary: str
    community: NamedRef | None
    themes: list[NamedRef]
    content_notes: list[NamedRef] = Field(description="What a listener may meet in the story, told before it plays.")
    kind: str
    language: str
    recorded_on: datetime.date | None
    generations: list[GenerationOut]

    @staticmethod
    def resolve_url(story, context):
        return context["request"].build_absolute_uri(story.url)

    @staticmethod
    def resolve_themes(story):
        return list(story.themes.all())

    @staticmethod
    def resolve_content_notes(story):
        return list(story.content_notes.all())

    @staticmethod
    def resolve_generations(story):
        return story.generations


def public_stories():
    return (
        StoryPage.objects.visible_to_public()
        .as_cards()
        .prefetch_related("themes", Prefetch("participants", queryset=participants_as_listed()))
    )


@router.get("", response={200: list[StoryOut], **ERROR_RESPONSES}, summary="Public stories, newest first")
@paginate(StoryPagination, page_size=20, max_page_size=MAX_PAGE_SIZE)
def list_stories(
    request, community: str | None = Query(None, description="Only stories from this community (a slug).")
):
    stories = public_stories().order_by("-first_published_at", "-pk")
    if community:
        stories = stories.filter(community__slug=community)
    return stories


# The ways in: communities, themes and collections, each with how many stories the public may see ----------------

communities_router = Router(tags=["communities"])
themes_router = Router(tags=["themes"])
collections_router = Router(tags=["collections"])


class CountedOut(Schema):
    slug: str
    url: str
    public_stories: int = Field(description="How many of its stories the public may see.")

    @staticmethod
    def resolve_url(item, context):
        return context["request"].build_absolute_uri(item.get_absolute_url())


class CommunityOut(CountedOut):
    name: str
    place: str


class ThemeOut(CountedOut):
    name: str
    description: str


class CollectionOut(CountedOut):
    title: str
    curator: str

    @staticmethod
    def resolve_url(item, context):
        return context["request"].build_absolute_uri(item.url)


@communities_router.get("", response={200: list[CommunityOut], **ERROR_RESPONSES}, summary="Every community, by name")
def list_communities(request):
    return communities_counted()


@themes_router.get("", response={200: list[ThemeOut], **ERROR_RESPONSES}, summary="Every theme, by name")
def list_themes(request):
    return themes_counted()


@collections_router.get(
    "", response={200: list[CollectionOut], **ERROR_RESPONSES}, summary="Collections the public may open, by title"
)
def list_collections(request):
    return collections_counted()
