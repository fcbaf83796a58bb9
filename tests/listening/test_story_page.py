"""The story page for listening: transcript without JavaScript, captions, labels, deep links, fixed queries, weight."""

import gzip
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stories.factories import PersonFactory, public_story
from transcription.models import Transcript

from .conftest import recording, spoken_lines, story_with_transcript, transcribe

GARDEN = [
    (0.0, 4.2, "My grandmother kept a vegetable garden."),
    (4.2, 9.8, "Every summer we picked tomatoes together."),
    (135.6, 140.0, "She told me the soil remembers who cares for it."),
]


def test_without_javascript_every_line_is_shown_with_a_link_to_its_moment(client):
    story, _ = story_with_transcript(GARDEN)

    html = client.get(story.url).content.decode()

    for text in ("My grandmother kept a vegetable garden.", "Every summer we picked tomatoes together."):
        assert text in html
    assert '<a href="?t=0">00:00</a>' in html
    assert '<a href="?t=4">00:04</a>' in html
    assert '<a href="?t=135">02:15</a>' in html  # rounded down, so the first word is never missed


def test_a_machine_transcript_says_it_may_contain_errors_until_a_facilitator_reviews_it(client):
    story, transcript = story_with_transcript(GARDEN)

    assert "Automatic transcript, may contain errors" in client.get(story.url).content.decode()

    transcript.reviewed = True
    transcript.save()
    assert "Automatic transcript, may contain errors" not in client.get(story.url).content.decode()


def test_a_transcript_typed_by_a_person_carries_no_automatic_label(client):
    story = public_story(recording=recording())
    transcribe(story.recording, GARDEN, machine_generated=False)

    assert "Automatic transcript" not in client.get(story.url).content.decode()


def test_the_player_carries_the_captions_as_a_track_that_serves_webvtt(client):
    story, _ = story_with_transcript(GARDEN)

    html = client.get(story.url).content.decode()
    track = re.search(r'<track kind="captions" src="([^"]+)" srclang="en"', html)

    assert track and track.group(1) == f"{story.url}transcript.vtt"
    assert f'src="/recordings/{story.recording_id}/access"' in html


def test_the_captions_track_serves_webvtt(client):
    story, _ = story_with_transcript(GARDEN)

    captions = client.get(f"{story.url}transcript.vtt")

    assert captions.status_code == 200
    assert captions.content.decode().startswith("WEBVTT")


def test_the_transcript_can_be_downloaded_as_text_webvtt_and_srt(client):
    story, _ = story_with_transcript(GARDEN)

    html = client.get(story.url).content.decode()

    for extension in ("txt", "vtt", "srt"):
        assert f'href="{story.url}transcript.{extension}" download' in html


def test_the_transcript_downloads_answer(client):
    story, _ = story_with_transcript(GARDEN)

    for extension in ("txt", "vtt", "srt"):
        assert client.get(f"{story.url}transcript.{extension}").status_code == 200


@pytest.mark.parametrize(
    "status, current",
    [
        (Transcript.Status.QUEUED, False),
        (Transcript.Status.RUNNING, False),
        (Transcript.Status.FAILED, False),
        (Transcript.Status.DONE, False),
    ],
)
def test_no_captions_or_transcript_until_a_current_transcript_is_done(client, status, current):
    """A first transcript is made current only once it is done (a transcript made again keeps showing its old
    words meanwhile: tests/transcription/test_reading_while_redone.py)."""
    story = public_story(recording=recording())
    transcribe(story.recording, GARDEN, status=status, current=current)

    html = client.get(story.url).content.decode()

    assert "<track" not in html
    assert "My grandmother" not in html
    assert 'id="player"' in html


def test_a_t_link_starts_the_player_at_that_second_even_without_javascript(client):
    story, _ = story_with_transcript(GARDEN)

    html = client.get(f"{story.url}?t=135").content.decode()

    assert f'src="/recordings/{story.recording_id}/access#t=135"' in html  # a media fragment the browser honours
    assert 'data-start="135"' in html
    assert "Listening from 02:15" in html


@pytest.mark.parametrize("value, seconds", [("02:15", 135), ("135.9", 135), ("1:00:00", 3600)])
def test_a_t_link_may_say_minutes_and_seconds(client, value, seconds):
    story, _ = story_with_transcript(GARDEN)

    assert f'#t={seconds}"' in client.get(f"{story.url}?t={value}").content.decode()


@pytest.mark.parametrize("value", ["-5", "soon", "nan", "inf", "1" * 40, "<script>"])
def test_an_unreadable_t_is_ignored_rather_than_echoed(client, value):
    story, _ = story_with_transcript(GARDEN)

    response = client.get(story.url, {"t": value})

    html = response.content.decode()
    assert response.status_code == 200
    assert "#t=" not in html and "Listening from" not in html
    assert "<script>" not in html.split("</footer>")[0]


def _story_page_queries(client, story) -> int:
    client.get(story.url)  # warm the site root cache, which every page shares
    with CaptureQueriesContext(connection) as queries:
        response = client.get(story.url)
    assert response.status_code == 200
    return len(queries)


def test_a_story_page_makes_as_many_queries_with_2000_segments_as_with_10(client):
    short, _ = story_with_transcript(spoken_lines(10), title="Short")
    long, _ = story_with_transcript(spoken_lines(2000), title="Long")

    assert _story_page_queries(client, short) == _story_page_queries(client, long)
    assert "Line 1999 of the story" in client.get(long.url).content.decode()


def test_a_story_page_makes_as_many_queries_with_four_participants_as_with_one(client):
    one, _ = story_with_transcript(spoken_lines(3), title="One voice", people=[PersonFactory()])
    four, _ = story_with_transcript(
        spoken_lines(3), title="Four voices", people=[PersonFactory(display_name=f"Voice {n}") for n in range(4)]
    )

    assert _story_page_queries(client, one) == _story_page_queries(client, four)
    assert "Voice 3" in client.get(four.url).content.decode()


def _linked_assets(html: str) -> list[str]:
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    return stylesheets + scripts + images


@pytest.mark.parametrize("hours", [1, 2.5])
def test_a_story_page_with_hours_of_transcript_weighs_under_200_kb_before_the_media(client, hours):
    """Cold cache: the page as a browser receives it, and every stylesheet, script and image it links (counted
    uncompressed); recordings excluded. A line every four seconds."""
    story, _ = story_with_transcript(spoken_lines(int(hours * 900), seconds_each=4.0))
    response = client.get(story.url, headers={"Accept-Encoding": "gzip"})
    html = gzip.decompress(response.content).decode()

    assets = _linked_assets(html)
    total = len(response.content)
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        total += len(b"".join(asset.streaming_content) if asset.streaming else asset.content)

    assert f"Line {int(hours * 900) - 1} of the story" in html
    assert any(url.endswith("listening.js") for url in assets) and any(url.endswith("listening.css") for url in assets)
    assert total <= 200 * 1024, f"{total / 1024:.0f} KB"
