"""A small archive whose figures are counted by hand, with hidden stories of every kind that must never count."""

import datetime

import pytest
from django.utils import timezone

from search.services import search_index_rebuild
from stories.factories import ConsentFactory, PersonFactory, StoryPageFactory, public_story, theme
from stories.models import Consent, StoryMedia, StoryPage, Visibility

ELDER, YOUTH, CHILD = 1948, 2001, 2015
HOUSING, TRANSPORT = "humane-housing", "reliable-transportation"


def recording(seconds: float) -> StoryMedia:
    return StoryMedia.objects.create(
        file="recordings/x.wav", size=10, sha256="0" * 64, container="wav", duration_seconds=seconds
    )


def housing_story(n: int, **fields) -> StoryPage:
    """Humane housing in Harbor Point, an elder with a young neighbour, winter 2025, half an hour of audio."""
    story = public_story(
        title=f"Housing {n}",
        people=[PersonFactory(birth_year=ELDER), PersonFactory(birth_year=YOUTH)],
        themes=[theme(HOUSING)],
        community__name="Harbor Point",
        recorded_on=datetime.date(2025, 2, 10),
        **fields,
    )
    story.recording = recording(1800)
    story.save(update_fields=["recording"])
    return story


def build_archive() -> dict[str, list[StoryPage]]:
    """By hand: 13 public stories, 8.0 hours.

    - 6 housing stories (above): boomers and gen-z, intergenerational, 2025-Q1, audio, 0.5 h each;
    - 5 transport stories: Harbor Point, gen-z alone, 2025-Q2, audio, 1 h each;
    - 2 written housing stories in Spanish: Cedar Flats, boomers alone, 2024-Q4, no recording.

    And four hidden stories that would count under housing, Harbor Point, boomers and gen-z: withdrawn, private,
    embargoed, and a minor's without a guardian."""
    housing = [housing_story(n) for n in range(6)]
    transport = []
    for n in range(5):
        story = public_story(
            title=f"Transport {n}",
            people=[PersonFactory(birth_year=YOUTH)],
            themes=[theme(TRANSPORT)],
            community__name="Harbor Point",
            recorded_on=datetime.date(2025, 5, 1),
        )
        story.recording = recording(3600)
        story.save(update_fields=["recording"])
        transport.append(story)
    written = [
        public_story(
            title=f"Vivienda {n}",
            people=[PersonFactory(birth_year=ELDER)],
            themes=[theme(HOUSING)],
            community__name="Cedar Flats",
            language="es",
            recorded_on=datetime.date(2024, 11, 1),
        )
        for n in range(2)
    ]
    withdrawn = housing_story(100)
    Consent.objects.filter(story=withdrawn).update(withdrawn_at=timezone.now())
    private = housing_story(101)
    StoryPage.objects.filter(pk=private.pk).update(visibility=Visibility.PRIVATE)
    embargoed = housing_story(102)
    StoryPage.objects.filter(pk=embargoed.pk).update(embargo_until=timezone.localdate() + datetime.timedelta(days=30))
    minor = StoryPageFactory(
        title="A child's housing story",
        participants=[PersonFactory(birth_year=CHILD)],
        themes=[theme(HOUSING)],
        community__name="Harbor Point",
        recorded_on=datetime.date(2025, 2, 10),
    )
    ConsentFactory(story=minor, person=minor.participants.get().person)  # no guardian on record
    search_index_rebuild()
    return {
        "housing": housing,
        "transport": transport,
        "written": written,
        "hidden": [withdrawn, private, embargoed, minor],
    }


@pytest.fixture
def archive():
    return build_archive()
