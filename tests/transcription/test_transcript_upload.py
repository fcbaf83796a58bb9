"""A transcript people already made: read from WebVTT, SRT or text, refused with the line named when it is wrong,
attached as the reviewed transcript people read, searchable at its moments, and lined up with the recording when it
comes without times."""

import numpy as np
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import GroupPagePermission, Page

from stories.factories import public_story
from stories.models import StoryPage
from tests.transcription.recordings import (
    RATE,
    damaged_recording,
    finished_transcript,
    recordings_not_transcribed,
    samples,
    store,
    write_audio,
)
from transcription import services
from transcription.alignment import NothingHeardInCommon, align
from transcription.engine import Word
from transcription.models import Transcript
from transcription.transcript_files import (
    LARGEST_FILE_BYTES,
    SRT,
    TEXT,
    TIMED_TEXT,
    WEBVTT,
    TranscriptFileError,
    parse_transcript_file,
)

VTT = b"""WEBVTT

NOTE made by the oral history volunteers

1
00:00:01.500 --> 00:00:04.250 align:start
<v Maria>We planted beans &amp; squash</v>
by the river.

00:00:05.000 --> 00:00:09.000
Then the flood came.
"""
SRT_FILE = b"""1
00:00:01,500 --> 00:00:04,250
We planted <i>beans</i> and squash

2
00:00:05,000 --> 00:00:09,000
Then the flood came.
"""
TIMED = b"""[00:00:01] We planted beans and squash
by the river.
00:00:05 - Then the flood came.
(0:08.5) Everyone helped.
"""


def cues(parsed):
    return [(cue.start, cue.end, cue.text) for cue in parsed.cues]


# Reading what people made.


def test_webvtt_is_read_into_segments_with_voices_and_entities_as_plain_text():
    parsed = parse_transcript_file(VTT, file_name="story.vtt", duration=20.0)
    assert parsed.kind == WEBVTT
    assert cues(parsed) == [(1.5, 4.25, "We planted beans & squash by the river."), (5.0, 9.0, "Then the flood came.")]


def test_srt_is_read_into_segments_without_its_tags():
    parsed = parse_transcript_file(SRT_FILE, file_name="story.srt", duration=20.0)
    assert parsed.kind == SRT
    assert cues(parsed) == [(1.5, 4.25, "We planted beans and squash"), (5.0, 9.0, "Then the flood came.")]


def test_text_with_times_at_line_starts_lasts_until_the_next_time_and_the_last_until_the_recording_ends():
    parsed = parse_transcript_file(TIMED, file_name="notes.txt", duration=12.0)
    assert parsed.kind == TIMED_TEXT
    assert cues(parsed) == [
        (1.0, 5.0, "We planted beans and squash by the river."),
        (5.0, 8.5, "Then the flood came."),
        (8.5, 12.0, "Everyone helped."),
    ]


def test_text_without_times_is_kept_whole_for_the_worker_to_line_up():
    parsed = parse_transcript_file(
        "Title line\n\nWe planted beans.\r\nThen the flood came.".encode("utf-8-sig"), duration=None
    )
    assert parsed.kind == TEXT and not parsed.timed and not parsed.cues
    assert parsed.text == "Title line\n\nWe planted beans.\nThen the flood came." and parsed.word_count == 9


def refusal(data: bytes, *, file_name="story.vtt", duration=20.0) -> str:
    with pytest.raises(TranscriptFileError) as refused:
        parse_transcript_file(data, file_name=file_name, duration=duration)
    return str(refused.value)


def test_an_end_before_its_start_is_refused_naming_the_line():
    lines = ["WEBVTT", "", "NOTE checked by two volunteers", ""]
    for number in range(3):
        lines += [f"00:00:0{number}.000 --> 00:00:0{number}.500", "Words.", ""]
    lines += ["00:01:05.000 --> 00:01:02.000", "Backwards."]
    assert len(lines) == 15 and lines[13].startswith("00:01:05")
    assert (
        refusal("\n".join(lines).encode(), duration=100.0)
        == "Line 14: the end time 00:01:02.000 comes before the start 00:01:05.000."
    )


def test_a_line_that_is_not_a_timestamp_is_named():
    assert refusal(b"WEBVTT\n\n00:00:0x.000 --> 00:00:02.000\nWords.").startswith(
        "Line 3: not a timestamp: \u201c00:00:0x.000\u201d"
    )
    assert refusal(b"1\n00:00:01 --> 00:00:02,000\nWords.", file_name="a.srt").startswith("Line 2: not a timestamp")
    timed = b"[00:00:01] One.\n[00:00:04] Two.\n[00:75:00] Three."
    assert refusal(timed, file_name="a.txt").startswith("Line 3: not a timestamp: \u201c[00:75:00]\u201d")


def test_empty_wrongly_encoded_oversized_and_nul_files_are_refused_plainly():
    assert refusal(b"  \n\n") == "The file is empty: there are no words in it."
    latin1 = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nSe\u00f1ora Garc\u00eda".encode("latin-1")
    assert refusal(latin1).startswith("Line 4: this is not UTF-8 text")
    assert refusal(b"x" * (LARGEST_FILE_BYTES + 1)).startswith(
        "The file is 1.0 MB; a transcript file may be at most 1 MB"
    )
    assert refusal("We planted beans.".encode("utf-16"), file_name="a.txt").startswith("Line 1: this")


def test_times_past_the_recordings_end_are_refused_naming_the_line():
    late = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nOne.\n\n00:00:30.000 --> 00:00:34.000\nTwo."
    assert refusal(late, duration=20.0) == (
        "Line 6: the time 00:00:30.000 is after the recording ends (00:00:20.000). "
        "Is this the transcript of this story's recording?"
    )
    assert refusal(b"[00:00:01] One.\n[00:00:25] Two.", file_name="a.txt", duration=20.0).startswith("Line 2:")
    # A last cue a moment past the end is taken as ending with the recording.
    parsed = parse_transcript_file(b"WEBVTT\n\n00:00:18.000 --> 00:00:20.600\nBye.", duration=20.0)
    assert cues(parsed) == [(18.0, 20.0, "Bye.")]


def test_cues_out_of_order_and_a_vtt_without_its_header_are_refused_naming_the_line():
    assert refusal(b"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nB\n\n00:00:01.000 --> 00:00:02.000\nA").startswith(
        "Line 6: this cue starts at 00:00:01.000, before the cue above it (line 3"
    )
    assert refusal(b"\n00:00:01.000 --> 00:00:02.000\nA") == "Line 2: a WebVTT file begins with the line WEBVTT."


# The words the recogniser missed.


def test_words_the_recogniser_missed_take_times_between_their_heard_neighbours():
    heard = [
        Word(0.0, 0.5, " My", 0.9),
        Word(0.5, 1.0, " grandmother", 0.9),
        Word(1.0, 1.4, " kept", 0.9),
        Word(2.4, 3.0, " garden.", 0.9),
        Word(5.0, 5.5, " We", 0.9),
        Word(5.5, 6.0, " walked.", 0.9),
    ]
    segments = align("My grandmother kept a big garden. We walked.", heard, duration=8.0)
    assert [s.text for s in segments] == ["My grandmother kept a big garden.", "We walked."]
    first = segments[0].words
    assert [w.word for w in first] == ["My", "grandmother", "kept", "a", "big", "garden."]
    assert 1.4 <= first[3].start < first[4].start < first[4].end <= 2.4  # "a big" between "kept" and "garden"
    assert (segments[0].start, segments[0].end, segments[1].start, segments[1].end) == (0.0, 3.0, 5.0, 6.0)


def test_text_the_recogniser_heard_none_of_is_refused_rather_than_timed_at_random():
    with pytest.raises(NothingHeardInCommon):
        align("Zebras juggle marmalade.", [Word(0.0, 0.5, " Ask", 0.9), Word(0.5, 1.0, " not", 0.9)], duration=2.0)


# In the admin.


@pytest.fixture
def editor(django_user_model, client):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(user)
    return user


def upload(client, story, data: bytes, name: str, **extra):
    return client.post(
        reverse("transcription_admin:upload", args=[story.pk]),
        {"file": SimpleUploadedFile(name, data), **extra},
    )


def test_a_timed_upload_is_previewed_then_replaces_what_people_read_and_is_found_at_its_moment(
    client, editor, django_capture_on_commit_callbacks
):
    machine = finished_transcript([(0.0, 4.0, "we plant it beans")])
    machine.media.duration_seconds = 20.0
    machine.media.save(update_fields=["duration_seconds"])
    story = public_story(recording=machine.media)

    preview = upload(client, story, VTT, "story.vtt").content.decode()
    assert "2 segments" in preview and "from 00:00:01.500 to 00:00:09.000" in preview
    assert "Then the flood came." in preview and "Replace the transcript" in preview
    assert Transcript.objects.get(is_current=True, media=machine.media).pk == machine.pk, "nothing replaced yet"

    carried = client.post(reverse("transcription_admin:upload", args=[story.pk]), {"pasted": VTT.decode()})
    assert "2 segments" in carried.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("transcription_admin:upload", args=[story.pk]),
            {"pasted": VTT.decode(), "file_name": "story.vtt", "replace": "1"},
        )
    assert response.status_code == 302

    current = Transcript.objects.get(media=machine.media, is_current=True)
    assert current.pk != machine.pk and current.model_name == "uploaded 1: story.vtt"
    assert (current.machine_generated, current.reviewed, current.status) == (False, True, Transcript.Status.DONE)
    assert list(current.segments.values_list("start", "text")) == [
        (1.5, "We planted beans & squash by the river."),
        (5.0, "Then the flood came."),
    ]
    assert Transcript.objects.filter(pk=machine.pk).exists(), "the earlier transcript is kept"

    hits = client.get("/api/search", {"q": "flood"}).json()["results"]
    assert [hit["id"] for hit in hits] == [story.pk]
    assert [moment["start"] for moment in hits[0]["moments"]] == [5.0]
    page = client.get(story.url).content.decode()
    assert "Then the flood came." in page and "we plant it beans" not in page
    assert "Automatic transcript" not in page


def test_a_bad_file_is_explained_with_its_line_and_nothing_is_lost(client, editor):
    machine = finished_transcript([(0.0, 4.0, "we plant it beans")])
    story = public_story(recording=machine.media)
    bad = b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nWords."

    page = upload(client, story, bad, "story.vtt").content.decode()
    assert "story.vtt: Line 3: the end time 00:00:02.000 comes before the start 00:00:05.000." in page
    pasted = client.post(reverse("transcription_admin:upload", args=[story.pk]), {"pasted": "[00:00:01] One\n[00:9"})
    assert "Line 2: not a timestamp" in pasted.content.decode()
    assert "[00:00:01] One" in pasted.content.decode(), "what was pasted stays on the form"
    assert list(Transcript.objects.filter(media=machine.media).values_list("pk", "is_current")) == [(machine.pk, True)]


def test_a_facilitator_without_edit_permission_cannot_upload_a_transcript(client, django_user_model):
    """Negative test: uploading needs the same permission as correcting a transcript (editing the story)."""
    machine = finished_transcript([(0.0, 4.0, "we plant it beans")])
    story = public_story(recording=machine.media)
    reader = django_user_model.objects.create_user("reader", "reader@example.org", "a-long-passphrase")
    group = Group.objects.create(name="Admin readers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=group, page=Page.get_first_root_node(), permission=Permission.objects.get(codename="view_page")
    )
    reader.groups.add(group)
    client.force_login(reader)

    url = reverse("transcription_admin:upload", args=[story.pk])
    assert client.get(reverse("wagtailadmin_home")).status_code == 200, "control: the reader is in the admin"
    # Refused as a missing story is: the answer does not tell whether the story exists.
    assert client.get(url).status_code == 404
    refused = client.post(url, {"pasted": VTT.decode(), "file_name": "story.vtt", "replace": "1"})
    assert refused.status_code == 404
    assert list(Transcript.objects.filter(media=machine.media).values_list("pk", "is_current")) == [(machine.pk, True)]


def test_a_hidden_storys_uploaded_transcript_never_appears_publicly(client, django_capture_on_commit_callbacks):
    shown = public_story(recording=damaged_recording(b"x", extension=".mp3"))
    hidden = public_story(recording=damaged_recording(b"x", extension=".mp3"))
    StoryPage.objects.filter(pk=hidden.pk).update(visibility="private")
    hidden.refresh_from_db()
    for story in (shown, hidden):
        parsed = parse_transcript_file(b"[00:00:02] Quillbramble told us everything.", duration=11.0)
        with django_capture_on_commit_callbacks(execute=True):
            services.transcript_upload(media=story.recording, parsed=parsed, file_name="a.txt", language="en")

    found = client.get("/api/search", {"q": "quillbramble"}).json()
    assert [hit["id"] for hit in found["results"]] == [shown.pk], "control: the public story's upload is found"
    assert client.get(shown.url).status_code == 200
    assert client.get(hidden.url).status_code == 404
    assert client.get(f"{hidden.url}transcript.vtt").status_code == 404


# Lined up with the recording by the worker's recogniser.


def test_text_without_times_is_lined_up_with_the_recording_sentence_by_sentence(
    tmp_path, django_capture_on_commit_callbacks, client
):
    garden, school = samples("garden"), samples("school")
    pause = np.zeros(2 * RATE, dtype=np.float32)
    school_at = (len(garden) + len(pause)) / RATE
    with recordings_not_transcribed():
        media = store(write_audio(tmp_path / "two.wav", np.concatenate([garden, pause, school]), container="wav",
                                  codec="pcm_s16le"))  # fmt: skip
    public_story(recording=media)
    text = (
        "My grandmother kept a vegetable garden behind the old house, and every summer we picked tomatoes together.\n"
        "We walked to school every morning, even in the snow, and my father told us stories on the way."
    )
    parsed = parse_transcript_file(text.encode(), file_name="words.txt", duration=media.duration_seconds)
    with django_capture_on_commit_callbacks(execute=True):
        queued = services.transcript_upload(media=media, parsed=parsed, file_name="words.txt", language="en")
        assert queued.status == Transcript.Status.QUEUED and not queued.is_current

    transcript = Transcript.objects.get(pk=queued.pk)
    assert transcript.status == Transcript.Status.DONE, transcript.error
    assert transcript.is_current and transcript.reviewed and not transcript.machine_generated
    segments = list(transcript.segments.order_by("index"))
    assert [s.text for s in segments] == text.splitlines(), "the people's words, as they wrote them"
    first, second = segments
    assert first.start < first.end <= second.start < second.end
    assert abs(first.start - 0.0) <= 1.0 and abs(first.end - len(garden) / RATE) <= 1.0
    assert abs(second.start - school_at) <= 1.0 and abs(second.end - len(school) / RATE - school_at) <= 1.0
    old = next(w for w in first.words if w["word"] == "old")  # not said: timed between its neighbours
    behind = next(w for w in first.words if w["word"] == "behind")
    house = next(w for w in first.words if w["word"] == "house,")
    assert behind["end"] <= old["start"] <= old["end"] <= house["start"]

    moments = client.get("/api/search", {"q": "snow"}).json()["results"][0]["moments"]
    assert [moment["start"] for moment in moments] == [second.start]


def test_an_alignment_that_fails_says_why_on_the_transcript_page_and_people_keep_reading_the_old_words(
    client, editor, django_capture_on_commit_callbacks
):
    machine = finished_transcript([(0.0, 4.0, "we plant it beans")], media=damaged_recording(b"junk", extension=".mp3"))
    story = public_story(recording=machine.media)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("transcription_admin:upload", args=[story.pk]),
            {"pasted": "We planted beans.", "file_name": "", "replace": "1"},
        )

    aligned = Transcript.objects.get(media=machine.media, model_name="uploaded 1: pasted text")
    assert aligned.status == Transcript.Status.FAILED and not aligned.is_current
    page = client.get(reverse("transcription_admin:story", args=[story.pk])).content.decode()
    assert aligned.error and aligned.error in page and "Retry" in page
    assert Transcript.objects.get(media=machine.media, is_current=True).pk == machine.pk
    assert "we plant it beans" in client.get(story.url).content.decode()

    client.post(reverse("transcription_admin:retry", args=[story.pk, aligned.pk]))
    aligned.refresh_from_db()
    assert aligned.status == Transcript.Status.QUEUED, "Retry lines the same words up again"
    assert (aligned.engine, aligned.source_text) == (services.PEOPLE_ALIGNED, "We planted beans.")
