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


# "In their own words" ------------------------------------------------------------------------------------------------
BOOMER, GEN_Z, GEN_X = 1950, 2001, 1970
# Said twice in every story of its generation and in no other story: these lead the generation's lists.
PLANTED = {
    "boomers": {"words": {"streetcar", "garden", "victory"}, "phrases": ["victory garden"]},
    "gen-z": {"words": {"phone", "climate", "strike"}, "phrases": ["climate strike"]},
}
SHARED_LINES = [
    "And the family and the neighbors, we were all there in the park.",
    "It was the way it was, and we did what we could.",
]


def told(title: str, birth_year: int, lines: list[str], **fields) -> StoryPage:
    """A public story with one storyteller and a transcript of these lines, one segment each."""
    from tests.search.conftest import transcribe

    story = public_story(title=title, people=[PersonFactory(birth_year=birth_year)], **fields)
    transcribe(story, [(10.0 * n, 10.0 * n + 5, line) for n, line in enumerate(lines)])
    return story


def build_words_archive() -> dict[str, list[StoryPage]]:
    """Six boomers' stories and six of Gen Z, each with its generation's planted words among words everyone says
    (stop words above all, said far more by the boomers), and three of Gen X: fewer than 5, so theirs are withheld.
    One boomer says "zeppelin" twelve times, in one story only: it must not lead their list."""
    boomers = [
        told(
            f"Elder {n}",
            BOOMER,
            [
                "We rode the streetcar to the factory, the streetcar was full.",
                "The victory garden, our victory garden, fed the street.",
                "My mother kept the ration card.",
                *SHARED_LINES,
                "And the the the and and we we we were were the the.",
                *(["Zeppelin " * 12] if n == 0 else []),
            ],
            themes=[theme("humane-housing")],
        )
        for n in range(6)
    ]
    youth = [
        told(
            f"Youth {n}",
            GEN_Z,
            [
                "I check my phone on the bus, my phone is my ticket.",
                "Our climate strike, the climate strike at school.",
                "Every screen at home.",
                *SHARED_LINES,
            ],
            themes=[theme("humane-housing")],
        )
        for n in range(6)
    ]
    middle = [
        told(
            f"Middle {n}",
            GEN_X,
            ["The mall had a video arcade, the video arcade.", *SHARED_LINES],
            themes=[theme("humane-housing")],
        )
        for n in range(3)
    ]
    search_index_rebuild()
    return {"boomers": boomers, "gen-z": youth, "gen-x": middle}
