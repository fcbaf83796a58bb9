"""GET /api/stories: public stories only, never full names or birth years. transcription.api adds /{id}."""

import datetime

from django.db.models import Prefetch
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from .models import StoryPage, StoryParticipant

router = Router(tags=["stories"])


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
    def resolve_generations(story):
        seen = {}
        for participant in story.participants.all():
            seen.setdefault(participant.person.generation.slug, participant.person.generation)
        return list(seen.values())


def public_stories():
    return (
        StoryPage.objects.visible_to_public()
        .select_related("community", "recording")
        .prefetch_related(
            "themes", Prefetch("participants", queryset=StoryParticipant.objects.select_related("person"))
        )
    )


@router.get("", response=list[StoryOut], summary="Public stories, newest first")
@paginate(PageNumberPagination, page_size=20)
def list_stories(request, community: str | None = None):
    stories = public_stories().order_by("-first_published_at", "-pk")
    if community:
        stories = stories.filter(community__slug=community)
    return stories
