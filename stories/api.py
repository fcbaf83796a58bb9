"""GET /api/stories: public stories only, never full names or birth years. transcription.api adds /{id}. And the
ways in: /api/communities, /api/themes, /api/collections and /api/dialogues, counting public stories only.

Every error, from any operation, is one JSON shape: `detail`, a sentence a person can act on, and for a parameter the
API refuses (out of bounds, or naming something the archive does not have) `errors`, one problem each."""

import datetime
from urllib.parse import urlencode

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from .chapters import CHAPTERS_FILE
from .models import Chapter, Community
from .models.pages import participants_as_listed
from .selectors import (
    PAGE_SIZE,
    InvalidCursor,
    collections_counted,
    communities_counted,
    dialogues_counted,
    public_stories_listed,
    themes_counted,
)

router = Router(tags=["stories"])

# Story ids are Wagtail page ids, a 32-bit integer column in every database Wagtail supports.
MAX_STORY_ID = 2**31 - 1
MAX_PAGE_SIZE = 100


class ValidationProblem(Schema):
    type: str = Field(description="What kind of problem: unknown_value, or the validator's name (int_parsing, ...).")
    loc: list[str | int] = Field(description="Where the value was: query or path, then the parameter's name.")
    msg: str = Field(description="What is wrong with that value.")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in words a person can act on.")
    errors: list[ValidationProblem] = Field(
        None,
        description="Each parameter the API refused, where it was and why: given with a 422, and with a 400 for a "
        "filter value the archive does not have.",
    )


class ValidationErrorOut(ErrorOut):
    errors: list[ValidationProblem]


# Every operation may answer these: 400 for a character no database can store (storyarchive.middleware), a filter
# value the archive does not have, or a parameter the operation refuses; 422 for a value outside the bounds this
# schema states.
ERROR_RESPONSES = {400: ErrorOut, 422: ValidationErrorOut}


class UnknownValues(HttpError):
    """Filter values that name nothing in the archive: a 400 that names each of them."""

    def __init__(self, unknown: dict[str, list[str]], *, hint: str = ""):
        self.errors = [
            {"type": "unknown_value", "loc": ["query", name], "msg": f"There is no {name} “{value[:100]}”."}
            for name, values in unknown.items()
            for value in values
        ]
        named = "; ".join(
            f"{name} {', '.join(f'“{value[:100]}”' for value in values)}" for name, values in unknown.items()
        )
        super().__init__(400, f"The archive has no {named}.{f' {hint}' if hint else ''}")


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


class ChapterOut(Schema):
    start: int = Field(description="Where the chapter begins, in seconds from the start of the recording.")
    end: int | None = Field(description="Where it ends, in seconds; null when it runs to the next chapter or the end.")
    title: str
    url: str | None = Field(description="A web page about this part of the story; null if none.")

    @staticmethod
    def resolve_start(chapter):
        return chapter.start_seconds

    @staticmethod
    def resolve_end(chapter):
        return chapter.end_seconds

    @staticmethod
    def resolve_url(chapter):
        return chapter.url or None


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
    chapters: list[ChapterOut] = Field(
        description="Named places in the recording, in order of their start; empty when it has none (always for a "
        "written story)."
    )
    chapters_url: str | None = Field(
        description="The chapters as a Podcasting 2.0 JSON chapters file (application/json+chapters), at the "
        "story's address followed by chapters.json; null when the recording has none."
    )

    @staticmethod
    def resolve_url(story, context):
        return context["request"].build_absolute_uri(story.url)

    @staticmethod
    def resolve_chapters(story):
        return list(story.chapters.all()) if story.recording_id else []

    @staticmethod
    def resolve_chapters_url(story, context):
        if not story.recording_id or not story.chapters.all():
            return None
        return context["request"].build_absolute_uri(story.url) + CHAPTERS_FILE

    @staticmethod
    def resolve_themes(story):
        return list(story.themes.all())

    @staticmethod
    def resolve_content_notes(story):
        return list(story.content_notes.all())

    @staticmethod
    def resolve_generations(story):
        return story.generations


def prepared_for_the_api(stories):
    # Every column (defer(None)): the API's story says more than its card.
    return (
        stories.as_cards()
        .defer(None)
        .prefetch_related(
            "themes",
            Prefetch("participants", queryset=participants_as_listed()),
            Prefetch("chapters", queryset=Chapter.objects.order_by("start_seconds", "pk")),
        )
    )


class StoryListOut(Schema):
    count: int = Field(description="How many stories the whole list holds, over all its pages.")
    next: str | None = Field(description="The address of the next, older page; null on the last.")
    previous: str | None = Field(description="The address of the previous, newer page; null on the first.")
    items: list[StoryOut]


@router.get("", response={200: StoryListOut, **ERROR_RESPONSES}, summary="Public stories, newest first")
def list_stories(
    request,
    community: str | None = Query(None, description="Only stories from this community (a slug)."),
    after: str | None = Query(
        None, max_length=40, description="The page after this place: take it from a response's `next`."
    ),
    before: str | None = Query(
        None, max_length=40, description="The page before this place: take it from a response's `previous`."
    ),
    page_size: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Stories a page (20 unless set)."),
):
    """Pages are reached by the `next` and `previous` addresses each answer gives, so every page costs the same,
    however deep; `count` is exact."""
    if "page" in request.GET:
        raise HttpError(400, "Pages are no longer numbered: follow each answer's `next` and `previous` addresses.")
    narrowed = {}
    if community:
        narrowed["community"] = Community.objects.filter(slug=community).first()
        if narrowed["community"] is None:
            raise UnknownValues({"community": [community]}, hint="/api/communities lists every community's slug.")
    try:
        listed = public_stories_listed(
            after=after, before=before, size=page_size, prepare=prepared_for_the_api, **narrowed
        )
    except InvalidCursor as error:
        raise HttpError(400, str(error)) from None

    def address(**place):
        query = {key: value for key, value in request.GET.items() if key not in ("after", "before")}
        return request.build_absolute_uri(f"{request.path}?{urlencode(query | place)}")

    return {
        "count": listed.count,
        "next": address(after=listed.older) if listed.older else None,
        "previous": address(before=listed.newer) if listed.newer else None,
        "items": listed.stories,
    }


# The ways in: communities, themes and collections, each with how many stories the public may see ----------------

communities_router = Router(tags=["communities"])
themes_router = Router(tags=["themes"])
collections_router = Router(tags=["collections"])
dialogues_router = Router(tags=["dialogues"])


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


class DialogueRef(Schema):
    slug: str
    title: str
    date: datetime.date | None = Field(description="When the dialogue was held.")
    place: str = Field(description="Where it was held; empty when not recorded.")
    url: str = Field(description="Its public page: the dialogue with its public stories.")

    @staticmethod
    def resolve_url(dialogue, context):
        return context["request"].build_absolute_uri(dialogue.get_absolute_url())


class DialogueOut(DialogueRef):
    community: NamedRef
    description: str
    questions: list[str] = Field(description="The questions asked at the dialogue, in order.")
    public_stories: int = Field(description="How many of its stories the public may see.")

    @staticmethod
    def resolve_questions(dialogue):
        return dialogue.question_list


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


@dialogues_router.get("", response={200: list[DialogueOut], **ERROR_RESPONSES}, summary="Every dialogue, newest first")
def list_dialogues(request):
    return dialogues_counted()
