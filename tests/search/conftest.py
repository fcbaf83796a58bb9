"""An archive of a few public stories with transcripts, and a helper to index them."""

import datetime

import pytest

from search.backends import get_search_backend
from search.services import search_index_rebuild
from stories.factories import PersonFactory, public_story, theme
from stories.models import StoryMedia, StoryPage
from transcription.models import Segment, Transcript

ELDER_YEAR, YOUTH_YEAR, MIDDLE_YEAR = 1948, 2001, 1975


def recording(*, video=False) -> StoryMedia:
    return StoryMedia.objects.create(
        file="recordings/x.wav", size=10, sha256="0" * 64, container="wav", video_codec="h264" if video else ""
    )


def transcribe(story, lines, *, current=True, status=Transcript.Status.DONE, model_name="tiny.en"):
    """A transcript for the story's recording with one segment per (start, end, text)."""
    if story.recording_id is None:
        story.recording = recording()
        story.save(update_fields=["recording"])
    transcript = Transcript.objects.create(
        media=story.recording, model_name=model_name, status=status, is_current=current
    )
    Segment.objects.bulk_create(
        [
            Segment(transcript=transcript, index=i, start=start, end=end, text=text)
            for i, (start, end, text) in enumerate(lines)
        ]
    )
    return transcript


@pytest.fixture
def archive():
    """Four public stories across themes, generations, communities, languages and kinds."""
    elder, youth, middle = (
        PersonFactory(birth_year=ELDER_YEAR),
        PersonFactory(birth_year=YOUTH_YEAR),
        PersonFactory(birth_year=MIDDLE_YEAR),
    )
    housing = public_story(
        title="The house on Elm Street",
        summary="An elder and a young neighbour talk about safe housing and rent.",
        people=[elder, youth],
        themes=[theme("humane-housing")],
        community__name="Riverside",
        recorded_on=datetime.date(2024, 3, 1),
    )
    transcribe(
        housing,
        [
            (0.0, 4.5, "Good morning, thank you for coming."),
            (135.0, 141.2, "We needed safe housing after the flood."),
            (200.0, 204.0, "My grandson fixes houses now."),
            (300.0, 305.0, "The rent doubled that year."),
            (400.0, 405.0, "Housing is where belonging starts."),
        ],
    )
    bus = public_story(
        title="Riding the number 9 bus",
        summary="A commute to school across town.",
        people=[youth],
        themes=[theme("reliable-transportation"), theme("lifelong-learning")],
        community__name="Riverside",
        recorded_on=datetime.date(2025, 6, 1),
    )
    transcribe(bus, [(10.0, 15.0, "The bus was always late in winter.")])
    spanish = public_story(
        title="La vivienda de mi abuela",
        summary="Mi abuela habla de las viviendas del barrio.",
        people=[elder, middle],
        themes=[theme("humane-housing")],
        community__name="Eastside",
        language="es",
        recorded_on=datetime.date(2023, 1, 15),
    )
    transcribe(spanish, [(5.0, 9.0, "Construimos casas para las familias del barrio.")])
    written = public_story(
        title="Letters from the garden",
        summary="A written story about the community garden.",
        people=[middle],
        themes=[theme("thriving-natural-world")],
        community__name="Eastside",
    )
    # public_story() needs a recording date to judge minors; a written story may have none.
    StoryPage.objects.filter(pk=written.pk).update(recorded_on=None)
    stories = {"housing": housing, "bus": bus, "spanish": spanish, "written": written}
    search_index_rebuild()
    return stories


@pytest.fixture
def backend():
    return get_search_backend()
