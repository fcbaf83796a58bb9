"""Public stories with real recordings (audio, and video with a poster), their access copies and captions."""

from pathlib import Path

import pytest

from stories.factories import CollectionEntryFactory, CollectionPageFactory, PersonFactory, public_story, theme
from stories.models import StoryMedia
from tests.transcription.recordings import AUDIO, RATE, finished_transcript, samples, store, write_audio
from transcription.services import recording_prepare_playback


def with_access_copy(media: StoryMedia) -> StoryMedia:
    """What the worker does first: the real access copy (and a poster for video), made from the stored original."""
    recording_prepare_playback(media=media, path=Path(media.file.path))
    media.refresh_from_db()
    return media


@pytest.fixture
def audio_recording(tmp_path) -> StoryMedia:
    copy = tmp_path / "garden.ogg"
    copy.write_bytes((AUDIO / "garden.ogg").read_bytes())
    return with_access_copy(store(copy))


@pytest.fixture
def video_recording(tmp_path) -> StoryMedia:
    clip = write_audio(
        tmp_path / "school.webm",
        samples("school")[: RATE * 2],
        container="webm",
        codec="libopus",
        video="libvpx",
        rate=48_000,
    )
    return with_access_copy(store(clip))


@pytest.fixture
def told_aloud(audio_recording):
    """A public audio story told by an elder and a youth, with themes and a reviewed transcript."""
    story = public_story(
        title="The garden behind the house",
        people=[
            PersonFactory(display_name="Rosa M.", birth_year=1948),
            PersonFactory(display_name="Jay T.", birth_year=2011),
        ],
        themes=[theme("thriving-natural-world"), theme("belonging-civic-muscle")],
        recording=audio_recording,
    )
    finished_transcript([(0.0, 3.0, "My grandmother kept a vegetable garden.")], media=audio_recording, reviewed=True)
    return story


@pytest.fixture
def on_video(video_recording):
    return public_story(title="Walking to school in the snow", recording=video_recording)


@pytest.fixture
def playlist(told_aloud, on_video):
    collection = CollectionPageFactory(title="Growing up", curator="Ana")
    CollectionEntryFactory(
        page=collection, story=told_aloud, sort_order=0, start_seconds=2, note="Listen for the tomatoes."
    )
    CollectionEntryFactory(page=collection, story=on_video, sort_order=1)
    return collection
