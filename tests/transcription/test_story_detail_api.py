"""/api/stories/{id}: the recording's public files (access copy, poster, captions), the written text, the dialogue;
and nothing of the original as uploaded."""

import datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest
from wagtail.rich_text import RichText

from stories.factories import CommunityFactory, DialogueFactory, PersonFactory, public_story
from stories.media import recording_store
from stories.models import StoryMedia, Visibility
from tests.transcription.recordings import recordings_not_transcribed
from transcription.models import Segment, Transcript
from transcription.services import recording_prepare_playback

CLIP = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "garden.ogg"


@pytest.fixture
def told_at_a_dialogue():
    """A public story playing garden.ogg (with its access copy), a machine transcript, told at a dialogue."""
    with recordings_not_transcribed(), open(CLIP, "rb") as source:
        media = recording_store(source=source, original_filename="garden at Rosa's house.ogg")
    recording_prepare_playback(media=media, path=Path(media.file.path))
    community = CommunityFactory(name="Riverside", slug="riverside")
    dialogue = DialogueFactory(
        title="Garden club", community=community, date=datetime.date(2026, 5, 2), place="Riverside Library"
    )
    story = public_story(
        title="Grandmother's garden",
        community=community,
        dialogue=dialogue,
        recording=media,
        people=[PersonFactory(display_name="Rosa", birth_year=1948)],
    )
    transcript = Transcript.objects.create(
        media=media, model_name="tiny.en", status=Transcript.Status.DONE, is_current=True, language="en"
    )
    Segment.objects.create(transcript=transcript, index=0, start=0.0, end=1.8, text="My grandmother kept a garden")
    return story


def test_a_recorded_story_gives_its_access_copy_captions_and_dialogue(client, told_at_a_dialogue):
    story = told_at_a_dialogue

    detail = client.get(f"/api/stories/{story.pk}").json()

    recording = detail["recording"]
    assert recording["kind"] == "audio" and recording["duration_seconds"] == pytest.approx(5.5, abs=0.2)
    assert recording["access_url"] == f"http://testserver/recordings/{story.recording_id}/access"
    assert recording["content_type"] == "audio/mp4"
    assert (recording["poster_url"], recording["width"], recording["height"]) == (None, None, None)
    address = f"http://testserver{story.url}"
    assert recording["captions"] == {
        "webvtt": f"{address}transcript.vtt",
        "srt": f"{address}transcript.srt",
        "text": f"{address}transcript.txt",
        "language": "en",
        "automatic": True,
    }
    assert detail["dialogue"] == {
        "slug": "garden-club",
        "title": "Garden club",
        "date": "2026-05-02",
        "place": "Riverside Library",
        "url": "http://testserver/dialogues/garden-club/",
    }
    assert detail["written"] is None
    # Every address it gives answers, with what it says it is.
    access = client.get(urlparse(recording["access_url"]).path)
    assert access.status_code == 200 and access["Content-Type"] == "audio/mp4"
    vtt = client.get(urlparse(recording["captions"]["webvtt"]).path)
    assert vtt.status_code == 200 and "My grandmother kept a garden" in vtt.content.decode()
    assert client.get(urlparse(recording["captions"]["srt"]).path).status_code == 200
    assert client.get(urlparse(detail["dialogue"]["url"]).path).status_code == 200


def test_the_original_as_uploaded_is_never_named(client, told_at_a_dialogue):
    story = told_at_a_dialogue
    original = f"/recordings/{story.recording_id}/original"
    # Control: the original exists, and its address answers a facilitator; the public is never pointed at it.
    assert StoryMedia.objects.get(pk=story.recording_id).file.name.endswith("original.ogg")
    assert client.get(original).status_code == 404

    body = client.get(f"/api/stories/{story.pk}").content.decode()

    assert "/original" not in body and "garden at Rosa" not in body and "original.ogg" not in body


def test_a_video_gives_its_poster_and_size(client):
    video = StoryMedia.objects.create(
        file="recordings/ab/video/original.mp4", size=10, sha256="1" * 64, container="mp4", video_codec="h264",
        audio_codec="aac", width=1280, height=720, duration_seconds=61.0, access_copy="recordings/ab/video/access.mp4",
        access_content_type="video/mp4", poster="recordings/ab/video/poster.jpg",
    )  # fmt: skip
    story = public_story(title="Walking the river", recording=video)

    recording = client.get(f"/api/stories/{story.pk}").json()["recording"]

    assert recording["kind"] == "video"
    assert recording["poster_url"] == f"http://testserver/recordings/{video.pk}/poster"
    assert (recording["width"], recording["height"], recording["content_type"]) == (1280, 720, "video/mp4")
    assert recording["captions"] is None  # no transcript yet


def test_a_recording_being_prepared_has_no_access_address_yet(client):
    waiting = StoryMedia.objects.create(
        file="recordings/cd/wait/original.wav", size=10, sha256="2" * 64, container="wav", audio_codec="pcm"
    )
    story = public_story(title="Still being prepared", recording=waiting)

    recording = client.get(f"/api/stories/{story.pk}").json()["recording"]

    assert (recording["access_url"], recording["content_type"]) == (None, None)


def test_a_written_story_gives_its_text_and_no_recording(client):
    story = public_story(title="Letters home", dialogue=DialogueFactory(title="Letter circle"))
    story.body = [
        ("paragraph", RichText("<p>We wrote &amp; waited.</p><p>Every <b>week</b>.</p>")),
        ("quote", {"text": "Write small, the paper is dear.", "attribution": "My aunt"}),
    ]
    story.save()

    detail = client.get(f"/api/stories/{story.pk}").json()

    assert detail["recording"] is None and detail["transcript"] is None
    assert detail["written"]["blocks"] == [
        {"type": "paragraph", "text": "We wrote & waited.\n\nEvery week.", "attribution": None, "alt_text": None,
         "caption": None, "image": None},
        {"type": "quote", "text": "Write small, the paper is dear.", "attribution": "My aunt", "alt_text": None,
         "caption": None, "image": None},
    ]  # fmt: skip
    assert (
        detail["written"]["text"] == "We wrote & waited.\n\nEvery week.\n\n“Write small, the paper is dear.” (My aunt)"
    )
    assert detail["dialogue"]["slug"] == "letter-circle"


def test_a_story_without_a_dialogue_says_null_and_a_hidden_one_is_not_found(client):
    story = public_story(title="On my own")
    assert client.get(f"/api/stories/{story.pk}").json()["dialogue"] is None

    story.visibility = Visibility.PRIVATE
    story.save()
    response = client.get(f"/api/stories/{story.pk}")

    assert response.status_code == 404
    assert response.json() == {"detail": "No public story has this id."}
