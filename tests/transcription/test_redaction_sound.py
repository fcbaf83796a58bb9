"""Redaction reaches the sound: the access copy (what the public and storytellers hear) is made again by the worker
with silence over every redacted passage, a video's pictures kept and its poster never a frame shown during one;
until it is made the recording is "being prepared". "Redact the original too" writes the preservation original again
with the silence (its SHA-256 taken again, audited without the words) and its sound cannot be brought back. Every
check of silence has its control: the same passage measured before the redaction, or outside it, is heard."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from stories.factories import public_story
from stories.models import StoryMedia, private_storage
from stories.services.fixity import original_problem
from transcription import services
from transcription.forms import RedactionForm
from transcription.models import Redaction, RedactionEvent
from transcription.playback import original_redaction_refusal

from .recordings import AUDIO, RATE, finished_transcript, recordings_not_transcribed, samples, store, write_audio

SECRET = "quagmirelly"
SILENT = 1e-3  # RMS: digital silence comes back from a lossy codec well under this
HEARD = 0.02  # RMS: the speech in these clips is far above this
# JFK's clip speaks in 3-6 s and around it; a video frame lasts 0.2 s (5 frames a second).
SPAN = (3.0, 6.0)
EDGE = 0.1  # what a codec's frame may smear across a cut
FPS = 5


def decoded(data: bytes, tmp_path: Path, name: str) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    path = tmp_path / name
    path.write_bytes(data)
    return decode_audio(str(path), sampling_rate=RATE)


def rms(sound: np.ndarray, start: float, end: float) -> float:
    stretch = sound[int(start * RATE) : int(end * RATE)]
    return float(np.sqrt(np.mean(np.square(stretch))))


def heard(client, media: StoryMedia, tmp_path: Path) -> np.ndarray:
    """What the public hears: the access copy as /recordings/<id>/access sends it, decoded."""
    answer = client.get(f"/recordings/{media.pk}/access")
    assert answer.status_code == 200, answer.content[:200]
    return decoded(b"".join(answer.streaming_content), tmp_path, f"heard-{answer['Content-Type'].split('/')[1]}")


def original_bytes(media: StoryMedia) -> bytes:
    media.refresh_from_db()
    return Path(private_storage().path(media.file.name)).read_bytes()


def coded_video(path: Path) -> Path:
    """An H.264 and AAC MP4 of JFK's clip whose every frame is one flat grey, 20 + 4 × its number: a still shows
    which frame it was taken from."""
    return write_audio(
        path,
        samples("jfk"),
        container="mp4",
        codec="aac",
        video="libx264",
        fps=FPS,
        size=(160, 120),
        shade=lambda number: 20 + 4 * number,
    )


def poster_frame_time(client, media: StoryMedia) -> float:
    """When the poster's frame is shown, read from its grey."""
    import io

    from PIL import Image

    answer = client.get(f"/recordings/{media.pk}/poster")
    assert answer.status_code == 200
    grey = np.asarray(Image.open(io.BytesIO(b"".join(answer.streaming_content))).convert("L")).mean()
    return round((grey - 20) / 4) / FPS


def pictures(path: Path) -> tuple[str, int]:
    import av

    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        return stream.codec_context.name, sum(1 for packet in video.demux(stream) if packet.size)


@pytest.fixture
def told(tmp_path):
    """A public story told with a real recording (JFK's clip by default), its transcript saying SECRET in SPAN, and
    its access copy made as the worker makes it."""

    def tell(path: Path = AUDIO / "jfk.ogg"):
        with recordings_not_transcribed():
            media = store(path)
        story = public_story(title="Ask not", recording=media)
        finished_transcript(
            [(0.0, 2.9, "And so my fellow Americans"), (3.0, 6.0, f"ask not {SECRET}"), (6.0, 11.0, "ask what")],
            media=media,
        )
        assert services.recording_redact(media_id=media.pk) == "made"
        media.refresh_from_db()
        return story, media

    return tell


def redact(client, story, capture, **data):
    with capture(execute=True):
        return client.post(reverse("transcription_admin:redactions", args=[story.pk]), data)


def undo(client, story, redaction, capture, **data):
    with capture(execute=True):
        return client.post(reverse("transcription_admin:redaction-undo", args=[story.pk, redaction.pk]), data)


def test_the_access_copy_is_silent_over_the_passage_and_the_rest_is_heard_as_long_as_before(
    client, facilitator, told, tmp_path, django_capture_on_commit_callbacks
):
    story, media = told()
    before = heard(client, media, tmp_path)
    assert rms(before, SPAN[0] + EDGE, SPAN[1] - EDGE) > HEARD  # the control: the passage is heard before

    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start=SPAN[0], end=SPAN[1], reason="Names a neighbour")
    client.logout()

    after = heard(client, media, tmp_path)
    assert rms(after, SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert rms(after, 0, SPAN[0] - EDGE) > HEARD and rms(after, SPAN[1] + EDGE, 10.5) > HEARD
    assert abs(len(after) - len(before)) / RATE < 0.04  # the same length, within a frame
    # The original is unchanged, for facilitators only: the same bytes and checksum, the passage still heard in it.
    assert hashlib.sha256(original_bytes(media)).hexdigest() == media.sha256 and original_problem(media) == ""
    assert rms(decoded(original_bytes(media), tmp_path, "original.ogg"), SPAN[0] + EDGE, SPAN[1] - EDGE) > HEARD


def test_until_the_copy_is_made_again_the_public_is_told_it_is_being_prepared_and_hears_nothing(
    client, facilitator, told, tmp_path, django_capture_on_commit_callbacks
):
    story, media = told()
    assert client.get(f"/recordings/{media.pk}/access").status_code == 200  # the control: it was heard
    old_copy = Path(private_storage().path(media.access_copy.name))
    client.force_login(facilitator)
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        client.post(
            reverse("transcription_admin:redactions", args=[story.pk]),
            {"start": SPAN[0], "end": SPAN[1], "reason": "Names a neighbour"},
        )
    client.logout()

    meanwhile = client.get(f"/recordings/{media.pk}/access")
    assert meanwhile.status_code == 503 and b"being prepared" in meanwhile.content
    assert "This recording is being prepared for listening" in client.get(story.url).content.decode()
    assert client.get(f"/api/stories/{story.pk}").json()["recording"]["access_url"] is None

    for callback in waiting:  # the commit's work: the old copy deleted, the worker's job run
        callback()
    assert not old_copy.exists()
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert "This recording is being prepared" not in client.get(story.url).content.decode()


def test_undoing_makes_the_passage_heard_again_and_another_redaction_stays_silent(
    client, facilitator, told, tmp_path, django_capture_on_commit_callbacks
):
    story, media = told()
    first, second = (1.0, 2.5), (6.5, 8.0)
    client.force_login(facilitator)
    for start, end in (first, second):
        redact(client, story, django_capture_on_commit_callbacks, start=start, end=end, reason="Private")
    both = heard(client, media, tmp_path)
    assert (
        rms(both, first[0] + EDGE, first[1] - EDGE) < SILENT and rms(both, second[0] + EDGE, second[1] - EDGE) < SILENT
    )

    undo(client, story, Redaction.objects.get(start=first[0]), django_capture_on_commit_callbacks)
    one = heard(client, media, tmp_path)
    assert rms(one, first[0] + EDGE, first[1] - EDGE) > HEARD
    assert rms(one, second[0] + EDGE, second[1] - EDGE) < SILENT  # the other redaction is kept

    undo(client, story, Redaction.objects.get(), django_capture_on_commit_callbacks)
    none = heard(client, media, tmp_path)
    assert rms(none, second[0] + EDGE, second[1] - EDGE) > HEARD
    media.refresh_from_db()
    assert media.access_copy.name.endswith("/access.m4a")  # the plain copy again, under its usual name


def test_a_videos_redacted_copy_keeps_its_pictures_and_its_poster_is_no_frame_from_the_passage(
    client, facilitator, told, tmp_path, django_capture_on_commit_callbacks
):
    original = coded_video(tmp_path / "interview.mp4")
    story, media = told(original)
    assert media.has_video and media.access_content_type == "video/mp4"
    span = (0.5, 3.0)
    shown = poster_frame_time(client, media)
    assert span[0] < shown < span[1]  # the control: the poster would come from inside the passage

    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start=span[0], end=span[1], reason="A face")
    client.logout()

    media.refresh_from_db()
    shown = poster_frame_time(client, media)
    assert not (span[0] - 1 / FPS < shown < span[1]), f"the poster is the frame shown at {shown} s"
    sound = heard(client, media, tmp_path)
    assert rms(sound, span[0] + EDGE, span[1] - EDGE) < SILENT and rms(sound, 3.5, 10.5) > HEARD
    copy = Path(private_storage().path(media.access_copy.name))
    assert pictures(copy) == pictures(original)  # every picture, as it was: h264, packet for packet
    assert abs(len(sound) / RATE - len(decoded(original.read_bytes(), tmp_path, "o.mp4")) / RATE) < 0.04


def test_redacting_the_original_too_rewrites_its_sound_and_checksum_and_its_sound_cannot_come_back(
    client, facilitator, told, tmp_path, django_capture_on_commit_callbacks
):
    story, media = told()
    sha_before, bytes_before = media.sha256, original_bytes(media)
    client.force_login(facilitator)
    form = client.get(reverse("transcription_admin:redactions", args=[story.pk])).content.decode()
    assert "Redact the original too" in form and "This cannot be undone: the sound is gone for good" in form
    redact(
        client,
        story,
        django_capture_on_commit_callbacks,
        start=SPAN[0],
        end=SPAN[1],
        reason="The storyteller asked for it to be destroyed",
        original_too="on",
    )
    media.refresh_from_db()
    rewritten = original_bytes(media)
    assert rewritten != bytes_before and media.sha256 != sha_before
    assert media.sha256 == hashlib.sha256(rewritten).hexdigest() and media.size == len(rewritten)
    assert original_problem(media) == ""  # the fixity check holds the new checksum
    sound = decoded(rewritten, tmp_path, "original.ogg")
    assert rms(sound, SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT and rms(sound, 0, SPAN[0] - EDGE) > HEARD
    [event] = RedactionEvent.objects.filter(action=RedactionEvent.Action.ORIGINAL)
    assert (event.sha256_before, event.sha256_after, event.username) == (sha_before, media.sha256, "facilitator")
    for row in RedactionEvent.objects.values():
        assert all(SECRET not in str(value) for value in row.values())

    # Undo of the sound is refused, with the reason, and changes nothing.
    redaction = Redaction.objects.get()
    answer = undo(client, story, redaction, django_capture_on_commit_callbacks)
    page = client.get(answer.url).content.decode()
    assert "gone for good and cannot be brought back" in page and "Restore the words" in page
    assert Redaction.objects.filter(pk=redaction.pk).exists()
    client.logout()
    assert SECRET not in client.get(f"{story.url}transcript.txt").content.decode()

    # The words were kept in the transcript, so they can be read again; the sound stays silent.
    client.force_login(facilitator)
    undo(client, story, redaction, django_capture_on_commit_callbacks, words_only="1")
    client.logout()
    assert SECRET in client.get(f"{story.url}transcript.txt").content.decode()
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert RedactionEvent.objects.filter(action=RedactionEvent.Action.WORDS_RESTORED).count() == 1


def test_a_copy_made_while_another_passage_was_redacted_is_never_given_to_the_public(told, monkeypatch, facilitator):
    """A job that read the redactions before a new one was made finishes after it: its copy is thrown away."""
    story, media = told()
    real = services.access_copy_write

    def redacted_meanwhile(**kwargs):
        real(**kwargs)
        services.redaction_create(media=media, start=SPAN[0], end=SPAN[1], reason="Meanwhile", user=facilitator)

    monkeypatch.setattr(services, "access_copy_write", redacted_meanwhile)
    with services._recording_file(media) as path:
        assert services.recording_prepare_playback(media=media, path=path) is False
    media.refresh_from_db()
    assert media.access_copy.name == ""  # still being prepared: the copy above heard the passage


def test_an_original_whose_sound_cannot_be_written_again_is_refused_on_the_form():
    refusal = original_redaction_refusal(audio_codec="amr_nb", file_name="phone.3gp")
    assert "cannot be redacted" in refusal
    assert original_redaction_refusal(audio_codec="opus", file_name="jfk.ogg") == ""  # the control
    form = RedactionForm(
        {"start": "1", "end": "2", "reason": "x", "original_too": "on"}, duration=10.0, original_refusal=refusal
    )
    assert not form.is_valid() and form.errors["original_too"] == [refusal]
