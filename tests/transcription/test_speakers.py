"""Who says each segment: shown by display name in the public transcript, the captions and the API, and only while
the story may be seen; read from WebVTT voice tags on upload."""

import io

import pytest
import webvtt

from stories.factories import PersonFactory, public_story
from stories.models import StoryPage, Visibility
from tests.hidden_answers import shows_nothing
from tests.transcription.recordings import finished_transcript
from transcription.models import Segment
from transcription.services import transcript_upload
from transcription.transcript_files import parse_transcript_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def spoken():
    """A public story by Rosa M. and "Jay <the> & Co", whose first two segments name their speakers."""
    transcript = finished_transcript([(0.0, 2.0, "We kept a garden."), (2.0, 4.0, "Tomatoes!"), (4.0, 6.0, "Yes.")])
    rosa = PersonFactory(display_name="Rosa M.", full_name="Rosa Martínez Secret")
    jay = PersonFactory(display_name="Jay <the> & Co", full_name="Jay Hidden Fullname")
    story = public_story(recording=transcript.media, people=[rosa, jay])
    first, second, _ = transcript.segments.order_by("index")
    Segment.objects.filter(pk=first.pk).update(speaker=rosa)
    Segment.objects.filter(pk=second.pk).update(speaker=jay)
    return story, rosa, jay


def test_captions_carry_the_speaker_as_a_webvtt_voice_tag(client, spoken):
    story, rosa, jay = spoken
    body = client.get(f"{story.url}transcript.vtt").content.decode()

    assert "<v Rosa M.>We kept a garden." in body
    assert "<v Jay &lt;the&gt; &amp; Co>Tomatoes!" in body  # the name cannot open a tag or end the cue
    captions = webvtt.from_buffer(io.StringIO(body)).captions
    assert [caption.voice for caption in captions] == ["Rosa M.", "Jay &lt;the&gt; &amp; Co", None]
    assert [caption.text for caption in captions] == ["We kept a garden.", "Tomatoes!", "Yes."]


def test_srt_and_text_say_name_colon_words(client, spoken):
    story, *_ = spoken
    srt = client.get(f"{story.url}transcript.srt").content.decode()
    text = client.get(f"{story.url}transcript.txt").content.decode()
    assert "Rosa M.: We kept a garden." in srt and "Jay <the> & Co: Tomatoes!" in srt and "\nYes.\n" in srt
    assert "[00:00] Rosa M.: We kept a garden." in text and "[00:04] Yes." in text


def test_the_story_page_names_the_speaker_before_the_words_and_never_the_full_name(client, spoken):
    story, *_ = spoken
    page = client.get(story.url).content.decode()
    assert '<span class="transcript__speaker">Rosa M.:</span> We kept a garden.' in page
    assert '<span class="transcript__speaker">Jay &lt;the&gt; &amp; Co:</span> Tomatoes!' in page
    assert "Secret" not in page and "Hidden Fullname" not in page


def test_the_api_gives_each_segments_speaker_by_display_name(client, spoken):
    story, *_ = spoken
    segments = client.get(f"/api/stories/{story.pk}").json()["transcript"]["segments"]
    assert [segment["speaker"] for segment in segments] == ["Rosa M.", "Jay <the> & Co", None]


def test_a_speaker_no_longer_in_the_story_is_shown_without_a_name(client, spoken):
    story, rosa, _ = spoken
    story.participants.filter(person=rosa).delete()
    story.consents.filter(person=rosa).delete()
    assert [s["speaker"] for s in client.get(f"/api/stories/{story.pk}").json()["transcript"]["segments"]][0] is None
    assert "Rosa M." not in client.get(f"{story.url}transcript.vtt").content.decode()
    assert "Rosa M." not in client.get(story.url).content.decode()


def test_a_webvtt_upload_names_the_participant_its_voice_tag_names(spoken):
    story, rosa, jay = spoken
    parsed = parse_transcript_file(
        b"WEBVTT\n\n00:00.000 --> 00:02.000\n<v rosa m.>We grew beans.\n\n"
        b"00:02.000 --> 00:04.000\n<v Somebody Else>Who is that?\n\n00:04.000 --> 00:05.000\nNo voice.\n",
        file_name="garden.vtt",
    )
    assert [cue.text for cue in parsed.cues] == ["We grew beans.", "Who is that?", "No voice."]

    transcript = transcript_upload(media=story.recording, parsed=parsed, file_name="garden.vtt", language="en")

    assert [s.speaker for s in transcript.segments.order_by("index")] == [rosa, None, None]
    assert [s.text for s in transcript.segments.order_by("index")] == ["We grew beans.", "Who is that?", "No voice."]


PUBLIC_FILES = ["", "transcript.vtt", "transcript.srt", "transcript.txt"]


def assert_segment_speakers_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """A segment's speaker is named on a story's page, captions, embed and API only when the rule shows the story."""
    for story_id, path in paths.items():
        names = set(
            Segment.objects.filter(
                transcript__is_current=True,
                transcript__media__stories__pk=story_id,
                speaker__participations__page_id=story_id,
            ).values_list("speaker__display_name", flat=True)
        )
        if not names:
            continue  # no speaker to name: nothing this check could find
        answers = [client.get(f"{path}{name}") for name in PUBLIC_FILES]
        answers += [client.get(f"/api/stories/{story_id}"), client.get(f"/embed/stories/{story_id}/")]
        for answer in answers:
            body = b"".join(answer.streaming_content) if answer.streaming else answer.content
            text = body.decode("utf-8", "replace")
            for name in names:
                if story_id in expected:
                    assert answer.status_code == 200, (story_id, answer.request["PATH_INFO"])
                else:
                    assert name not in text, (story_id, name, answer.request["PATH_INFO"])
                    assert shows_nothing(answer), (story_id, answer.request["PATH_INFO"])
        if story_id in expected and names:
            segments = client.get(f"/api/stories/{story_id}").json()["transcript"]["segments"]
            assert names <= {segment["speaker"] for segment in segments}, (story_id, names)


def test_a_hidden_storys_speakers_are_named_nowhere_public(client, spoken):
    story, *_ = spoken
    # The visible control: while the story may be seen, its speakers are named, so the check can fail.
    assert_segment_speakers_follow_the_rule(client, {story.pk}, {story.pk: story.url})
    with pytest.raises(AssertionError):
        assert_segment_speakers_follow_the_rule(client, set(), {story.pk: story.url})

    StoryPage.objects.filter(pk=story.pk).update(visibility=Visibility.PRIVATE)

    assert_segment_speakers_follow_the_rule(client, set(), {story.pk: story.url})
    assert client.get(f"{story.url}transcript.vtt").status_code == 404


def test_a_withdrawn_story_leaves_no_speaker_name_on_any_segment(spoken, django_capture_on_commit_callbacks):
    """Withdrawal deletes the story's people and transcripts: no segment anywhere still points at a speaker of it."""
    from stories.models import Person, Withdrawal
    from stories.services import story_withdraw

    story, rosa, jay = spoken
    with django_capture_on_commit_callbacks(execute=True):
        story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)

    assert not Person.objects.filter(pk__in=[rosa.pk, jay.pk]).exists()
    assert not Segment.objects.filter(speaker_id__in=[rosa.pk, jay.pk]).exists()
