"""Caption files and the story API: what they contain, and that they obey the visibility rule."""

import re

import pytest

from stories.factories import public_story
from stories.models import StoryPage, Visibility
from tests.transcription.recordings import finished_transcript
from transcription.models import Transcript

# Until storyarchive/urls.py includes transcription.urls before wagtail_urls, these tests add it themselves.
pytestmark = pytest.mark.urls("tests.transcription.urls")

SEGMENTS = [
    (0.0, 4.25, "My grandmother kept a garden."),
    (4.25, 3725.5, "Tomatoes & beans <grew> there --> every summer."),
    (3725.5, 3730.0, "We   picked\n\nthem together."),
]
CUE_TIMING = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$")


def parse_webvtt(body: str) -> list[dict]:
    """A strict reading of the WebVTT file format: signature, blank-line separated cues, id, timing, payload."""
    blocks = body.replace("\r\n", "\n").split("\n\n")
    assert blocks[0].split("\n")[0] == "WEBVTT"
    cues = []
    for block in filter(None, (b.strip("\n") for b in blocks[1:])):
        lines = block.split("\n")
        if "-->" not in lines[0]:
            lines = lines[1:]  # the cue identifier
        match = CUE_TIMING.match(lines[0])
        assert match, lines[0]
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        text = "\n".join(lines[1:])
        assert text and "-->" not in text and not re.search(r"<(?!/?[biuc]\b|/?v\b|/?ruby|/?rt|/?lang)", text)
        cues.append(
            {
                "start": h1 * 3600 + m1 * 60 + s1 + ms1 / 1000,
                "end": h2 * 3600 + m2 * 60 + s2 + ms2 / 1000,
                "text": text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"),
            }
        )
    return cues


def story_with_transcript(**story_fields):
    transcript = finished_transcript(SEGMENTS)
    return public_story(recording=transcript.media, **story_fields), transcript


def test_webvtt_parses_with_every_segment_at_its_time(client):
    story, _ = story_with_transcript()
    response = client.get(f"{story.url}transcript.vtt")

    assert response.status_code == 200 and response["Content-Type"] == "text/vtt; charset=utf-8"
    cues = parse_webvtt(response.content.decode())
    assert [(c["start"], c["end"]) for c in cues] == [(s, e) for s, e, _ in SEGMENTS]
    assert cues[1]["text"] == "Tomatoes & beans <grew> there --> every summer."
    assert cues[2]["text"] == "We picked them together."


def test_srt_and_text_downloads(client):
    story, _ = story_with_transcript()
    srt = client.get(f"{story.url}transcript.srt").content.decode()
    text = client.get(f"{story.url}transcript.txt").content.decode()

    assert srt.startswith("1\n00:00:00,000 --> 00:00:04,250\nMy grandmother kept a garden.\n\n2\n")
    assert "01:02:05,500 --> 01:02:10,000" in srt
    assert f"{story.title}\n" in text and "[1:02:05] We picked them together." in text


def test_caption_files_of_a_story_the_public_may_not_see_are_not_found(client):
    hidden, _ = story_with_transcript(visibility=Visibility.PRIVATE)
    for name in ["transcript.vtt", "transcript.srt", "transcript.txt"]:
        assert client.get(f"{hidden.url}{name}").status_code == 404


def test_a_story_without_a_finished_transcript_has_no_caption_file(client):
    story, transcript = story_with_transcript()
    Transcript.objects.filter(pk=transcript.pk).update(status=Transcript.Status.RUNNING, is_current=False)
    assert client.get(f"{story.url}transcript.vtt").status_code == 404


def test_the_text_stays_readable_while_the_same_model_runs_again(client):
    story, transcript = story_with_transcript()
    Transcript.objects.filter(pk=transcript.pk).update(status=Transcript.Status.RUNNING, progress=10)
    assert len(parse_webvtt(client.get(f"{story.url}transcript.vtt").content.decode())) == 3
    assert client.get(f"/api/stories/{story.pk}").json()["transcript"]["status"] == "running"


def test_the_story_api_gives_the_transcript_and_hides_private_stories(client):
    story, transcript = story_with_transcript()
    body = client.get(f"/api/stories/{story.pk}").json()

    assert body["title"] == story.title and body["participants"]
    assert body["transcript"]["status"] == "done" and body["transcript"]["language"] == "en"
    assert [s["start"] for s in body["transcript"]["segments"]] == [0.0, 4.25, 3725.5]

    StoryPage.objects.filter(pk=story.pk).update(visibility=Visibility.FACILITATORS)
    assert client.get(f"/api/stories/{story.pk}").status_code == 404


def test_the_story_api_shows_progress_before_the_transcript_is_done(client):
    story, transcript = story_with_transcript()
    Transcript.objects.filter(pk=transcript.pk).update(status=Transcript.Status.RUNNING, progress=40, is_current=False)
    body = client.get(f"/api/stories/{story.pk}").json()
    assert body["transcript"]["status"] == "running" and body["transcript"]["progress"] == 40
    assert body["transcript"]["segments"] == []
