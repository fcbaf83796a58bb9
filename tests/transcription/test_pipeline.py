"""From a stored recording to a saved, announced transcript and a playable copy, run in-process by the test backend."""

import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from stories.factories import public_story
from stories.models import StoryMedia, StoryPage
from tests.transcription.recordings import (
    KNOWN_TEXT,
    RATE,
    bad_media_set,
    damaged_recording,
    noisy_fragment,
    samples,
    store,
    word_error_rate,
    write_audio,
)
from transcription import services
from transcription.models import Transcript
from transcription.signals import transcript_ready


@pytest.fixture
def announcements():
    heard = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    transcript_ready.connect(listen)
    yield heard
    transcript_ready.disconnect(listen)


def transcribed(path: Path, capture) -> Transcript:
    """Store a file as an upload does; the recording_stored signal queues the job, which runs at once here."""
    with capture(execute=True):
        media = store(path)
    return Transcript.objects.get(media=media)


def test_a_stored_recording_is_transcribed_announced_and_gets_an_access_copy(
    tmp_path, django_capture_on_commit_callbacks, announcements
):
    source = write_audio(tmp_path / "jfk.wav", samples("jfk"), container="wav", codec="pcm_s16le")
    transcript = transcribed(source, django_capture_on_commit_callbacks)

    assert transcript.status == Transcript.Status.DONE
    assert transcript.is_current and transcript.progress == 100 and not transcript.no_speech
    assert transcript.language == "en" and transcript.real_time_factor > 0 and transcript.attempts == 1
    text = " ".join(transcript.segments.values_list("text", flat=True))
    assert word_error_rate(KNOWN_TEXT["jfk"], text) <= 0.3
    assert announcements == [
        {"signal": transcript_ready, "transcript_id": transcript.pk, "media_id": transcript.media_id}
    ]

    media = StoryMedia.objects.get(pk=transcript.media_id)
    assert media.access_content_type == "audio/mp4" and media.access_copy.name.endswith("access.m4a")
    with av.open(media.access_copy.path) as copy:
        sound = copy.streams.audio[0]
        assert sound.codec_context.name == "aac" and sound.codec_context.channels == 1
        assert 40_000 <= (sound.bit_rate or copy.bit_rate) <= 96_000
    assert Path(media.file.path).read_bytes() == source.read_bytes(), "the original must stay untouched"


# wav and flac are covered by the tests above and below; opus in webm by the webm video.
FORMATS = {
    "mp3": {"container": "mp3", "codec": "libmp3lame"},
    "m4a": {"container": "mp4", "codec": "aac"},
    "ogg opus": {"container": "ogg", "codec": "libopus", "rate": 48_000},
    "amr from a phone": {"container": "amr", "codec": "libopencore_amrnb", "rate": 8_000},
    "mp4 video (mpeg4)": {"container": "mp4", "codec": "aac", "video": "mpeg4"},
    "webm video (vp8)": {"container": "webm", "codec": "libopus", "rate": 48_000, "video": "libvpx"},
    "3gp video from a phone": {"container": "3gp", "codec": "libopencore_amrnb", "rate": 8_000, "video": "h263"},
}
EXTENSIONS = {
    "mp3": ".mp3",
    "mp4": ".mp4",
    "ogg": ".ogg",
    "flac": ".flac",
    "webm": ".webm",
    "amr": ".amr",
    "3gp": ".3gp",
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_container_people_upload_is_transcribed_and_playable(kind, tmp_path, django_capture_on_commit_callbacks):
    options = dict(FORMATS[kind])
    path = tmp_path / f"garden{EXTENSIONS[options['container']]}"
    write_audio(path, samples("garden")[: int(2.9 * RATE)], **options)  # "My grandmother kept a vegetable garden"
    transcript = transcribed(path, django_capture_on_commit_callbacks)

    assert transcript.status == Transcript.Status.DONE, transcript.error
    assert "garden" in " ".join(transcript.segments.values_list("text", flat=True)).lower()
    media = StoryMedia.objects.get(pk=transcript.media_id)
    if kind == "webm video (vp8)":
        # Browsers play the original's pictures and sound: copied as they are, without its tags.
        assert media.access_copy.name.endswith("access.webm") and media.access_content_type == "video/webm"
        with av.open(media.access_copy.path) as copy:
            assert copy.streams.video[0].codec_context.name == "vp8" and copy.streams.audio
    else:
        assert media.access_copy.name.endswith(".m4a")
    if "video" in options:
        with media.poster.open("rb") as poster:
            assert poster.read(3) == b"\xff\xd8\xff"  # a JPEG


TAGS = {"location": "+40.6892-074.0445/", "comment": "Grandma's kitchen, 12 Elm St"}


def with_tags(plain_path: Path, tagged_path: Path, container: str) -> Path:
    """The same pictures and sound with a phone's location and a comment added, as a phone would save them."""
    with av.open(str(plain_path)) as plain, av.open(str(tagged_path), "w", format=container) as tagged:
        tagged.metadata.update(TAGS)
        tracks = {stream.index: tagged.add_stream_from_template(stream) for stream in plain.streams}
        for packet in plain.demux():
            if packet.dts is not None:
                packet.stream = tracks[packet.stream.index]
                tagged.mux(packet)
    return tagged_path


@pytest.mark.parametrize(
    "container, options",
    [
        ("mp4", {"container": "mp4", "codec": "aac"}),
        ("webm", {"container": "webm", "codec": "libopus", "rate": 48_000, "video": "libvpx"}),
    ],
    ids=["audio made into a copy", "video browsers play as it is"],
)
def test_tags_such_as_location_never_reach_the_access_copy(
    container, options, tmp_path, django_capture_on_commit_callbacks
):
    plain = write_audio(tmp_path / f"plain.{container}", samples("school"), **options)
    transcript = transcribed(
        with_tags(plain, tmp_path / f"tagged.{container}", container), django_capture_on_commit_callbacks
    )

    media = StoryMedia.objects.get(pk=transcript.media_id)
    with av.open(media.access_copy.path) as copy:
        tags = " ".join(f"{key}={value}" for key, value in copy.metadata.items())
        tags += " ".join(f"{key}={value}" for stream in copy.streams for key, value in stream.metadata.items())
    assert "40.6892" not in tags and "Elm St" not in tags
    with av.open(media.file.path) as original:
        kept = {key.lower(): value for key, value in original.metadata.items()}  # Matroska spells tags in capitals
    assert kept.get("comment") == TAGS["comment"], "the preservation master keeps what it came with"


def test_a_story_in_another_language_is_not_turned_into_invented_english(tmp_path, django_capture_on_commit_callbacks):
    """tiny.en hears only English: a Spanish story fails with what to do, instead of keeping made-up English text."""
    path = write_audio(tmp_path / "garden.ogg", samples("garden"), container="ogg", codec="libopus", rate=48_000)
    with django_capture_on_commit_callbacks(execute=True):
        media = store(path)
        public_story(recording=media, language="es-MX")

    transcript = Transcript.objects.get(media=media)
    assert transcript.status == Transcript.Status.FAILED
    assert "told in Spanish" in transcript.error and "TRANSCRIPTION_MODEL=base" in transcript.error
    assert not transcript.segments.exists()


@pytest.mark.parametrize("quiet", ["silence", "noise"])
def test_silence_and_noise_say_no_speech_detected_instead_of_inventing_words(
    quiet, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / f"{quiet}.ogg"
    shutil.copy(Path(__file__).resolve().parent.parent / "fixtures" / "audio" / f"{quiet}.ogg", path)
    transcript = transcribed(path, django_capture_on_commit_callbacks)

    assert transcript.status == Transcript.Status.DONE
    assert transcript.no_speech and transcript.segments.count() == 0


# Scraps of JFK's clip (start, noise seed) for which tiny.en wrote a whole sentence.
INVENTED = {
    "We'll see you in the next video. Bye.": (9.6, 3),
    "I'm going to follow them there.": (1.4, 0),
    "Thank you all for coming.": (5.6, 0),
}


@pytest.mark.parametrize(("start", "seed"), INVENTED.values(), ids=INVENTED.keys())
def test_a_scrap_of_noisy_speech_says_no_speech_detected_instead_of_an_invented_sentence(
    start, seed, tmp_path, django_capture_on_commit_callbacks, client
):
    """0.6 s of speech under noise cannot hold a sentence; the story page and the text download say no speech."""
    scrap = noisy_fragment("jfk", start=start, seed=seed)
    path = write_audio(tmp_path / "scrap.ogg", scrap, container="ogg", codec="libopus", rate=48_000)
    transcript = transcribed(path, django_capture_on_commit_callbacks)

    assert transcript.status == Transcript.Status.DONE
    assert list(transcript.segments.values_list("text", flat=True)) == []
    assert transcript.no_speech
    story = public_story(recording=transcript.media)
    assert "No speech detected" in client.get(story.url).content.decode()
    assert "No speech detected" in client.get(f"{story.url}transcript.txt").content.decode()


def test_a_scrap_that_holds_real_words_keeps_them(tmp_path, django_capture_on_commit_callbacks, client):
    """The bound drops only what the sound cannot carry: two words in 0.6 s are believable, and kept."""
    scrap = noisy_fragment("jfk", start=1.0, noise=0.05, seed=0)
    path = write_audio(tmp_path / "scrap.ogg", scrap, container="ogg", codec="libopus", rate=48_000)
    transcript = transcribed(path, django_capture_on_commit_callbacks)

    assert not transcript.no_speech
    assert "my fellow" in " ".join(transcript.segments.values_list("text", flat=True)).lower()
    story = public_story(recording=transcript.media)
    page = client.get(story.url).content.decode()
    assert "No speech detected" not in page and "my fellow" in page.lower()


def test_a_long_recording_keeps_each_clip_at_its_true_offset(tmp_path, django_capture_on_commit_callbacks):
    """Clips joined with quarter-hours of silence: each one's words start where the clip was placed, within a second."""
    silence = np.zeros(RATE * 15 * 60, dtype=np.float32)  # four gaps of 15 minutes: over an hour in all
    pieces, offsets, position = [], {}, 0
    for clip in ["jfk", "garden", "school", "jfk"]:
        pieces.append(silence)
        position += len(silence)
        spoken = samples(clip)
        offsets.setdefault(clip, []).append(position / RATE)
        pieces.append(spoken)
        position += len(spoken)
    path = write_audio(tmp_path / "long.flac", np.concatenate(pieces), container="flac", codec="flac")
    transcript = transcribed(path, django_capture_on_commit_callbacks)

    assert transcript.duration_seconds > 3600
    segments = list(transcript.segments.order_by("index"))
    first_words = {"jfk": "and so", "garden": "my grand", "school": "we walked"}
    for clip, starts in offsets.items():
        found = [s.start for s in segments if s.text.lower().lstrip().startswith(first_words[clip])]
        assert len(found) == len(starts), (clip, [(s.start, s.text) for s in segments])
        for expected, actual in zip(starts, found, strict=True):
            assert abs(actual - expected) <= 1.0, (clip, expected, actual)
    assert all(a.end <= b.start + 0.01 for a, b in zip(segments, segments[1:], strict=False))


def test_a_job_queued_in_a_transaction_that_rolls_back_never_runs(
    tmp_path, database_tasks, django_capture_on_commit_callbacks
):
    media = damaged_recording(b"", extension=".mp3")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.transcript_request(media=media)
            raise RuntimeError("the upload form failed after queueing")
    assert callbacks == [] and not DBTaskResult.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        transcript = services.transcript_request(media=media)
    job = DBTaskResult.objects.get()
    assert job.args_kwargs["kwargs"] == {"transcript_id": transcript.pk}


def test_unreadable_recordings_fail_at_once_with_a_reason_and_the_next_one_runs(
    tmp_path, django_capture_on_commit_callbacks
):
    bad = [damaged_recording(content, extension=".mp3") for content in bad_media_set(tmp_path).values()]
    good = store(write_audio(tmp_path / "school.mp3", samples("school"), container="mp3", codec="libmp3lame"))
    with django_capture_on_commit_callbacks(execute=True):
        for media in [*bad, good]:
            services.transcript_request(media=media)

    for media in bad:
        transcript = Transcript.objects.get(media=media)
        assert transcript.status == Transcript.Status.FAILED and transcript.attempts == 1
        assert transcript.error and "Traceback" not in transcript.error
        assert not transcript.segments.exists()
    assert Transcript.objects.get(media=good).status == Transcript.Status.DONE


def test_a_missing_file_is_retried_until_the_limit_then_fails_with_the_reason(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 3
    media = store(write_audio(tmp_path / "school.wav", samples("school"), container="wav", codec="pcm_s16le"))
    Path(media.file.path).rename(tmp_path / "away.wav")  # storage unmounted, say
    with django_capture_on_commit_callbacks(execute=True):
        transcript = services.transcript_request(media=media)

    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.FAILED and transcript.attempts == 3
    assert "could not be reached" in transcript.error and "Retry" in transcript.error

    (tmp_path / "away.wav").rename(media.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.transcript_retry(transcript=transcript)
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.DONE and transcript.attempts == 1


def test_a_withdrawn_story_keeps_no_text(tmp_path, django_capture_on_commit_callbacks):
    media = store(write_audio(tmp_path / "garden.wav", samples("garden"), container="wav", codec="pcm_s16le"))
    story = public_story(recording=media)
    StoryPage.objects.filter(pk=story.pk).update(withdrawn_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        transcript = services.transcript_request(media=media)

    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.FAILED and "withdrawn" in transcript.error
    assert not transcript.segments.exists()


def test_a_deleted_recording_leaves_nothing_behind(tmp_path, django_capture_on_commit_callbacks):
    media = store(write_audio(tmp_path / "garden.wav", samples("garden"), container="wav", codec="pcm_s16le"))
    transcript = services.transcript_request(media=media)  # queued; the job has not run yet
    media.delete()
    assert services.transcript_run(transcript_id=transcript.pk) == "skipped"
    assert not Transcript.objects.exists()
