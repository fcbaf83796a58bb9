"""Recordings for tests, made from the small clips in tests/fixtures/audio: other containers, long joins, bad files."""

import re
import unicodedata
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from stories.media import recording_folder, recording_store
from stories.models import StoryMedia, private_storage
from stories.signals import recording_stored

AUDIO = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
KNOWN_TEXT = {
    "jfk": "And so my fellow Americans ask not what your country can do for you ask what you can do for your country",
    "garden": "My grandmother kept a vegetable garden behind the house and every summer we picked tomatoes together",
    "school": "We walked to school every morning even in the snow and my father told us stories on the way",
}
RATE = 16_000


def samples(name: str) -> np.ndarray:
    """A fixture clip as 16 kHz mono float samples."""
    from faster_whisper.audio import decode_audio

    return decode_audio(str(AUDIO / f"{name}.ogg"), sampling_rate=RATE)


def pink_noise(length: int, *, seed: int) -> np.ndarray:
    """Pink noise (as sox's `synth pinknoise`) peaking at full scale, the same for the same seed."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(0, 1, length))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, length)
    return (noise / np.abs(noise).max()).astype(np.float32)


def noisy_fragment(name: str, *, start: float, seconds: float = 0.6, noise: float = 0.2, seed: int) -> np.ndarray:
    """A scrap of a fixture clip with pink noise over it: less sound than a sentence needs."""
    scrap = samples(name)[int(start * RATE) : int((start + seconds) * RATE)]
    return np.clip(scrap + noise * pink_noise(len(scrap), seed=seed), -1, 1)


def write_audio(
    destination: Path,
    sound: np.ndarray,
    *,
    container: str,
    codec: str,
    rate: int = RATE,
    video: str | None = None,
    fps: int = 10,
    size: tuple[int, int] = (176, 144),  # a size h263 (3gp phones) accepts
    shade=lambda number: (number * 7) % 255,
) -> Path:
    """Encode mono samples into a file; when video names a codec, with a moving test picture whose every frame is
    one flat grey, shade(its number)."""
    import av

    width, height = size
    with av.open(str(destination), "w", format=container) as output:
        picture = None
        if video:
            picture = output.add_stream(video, rate=fps)
            picture.width, picture.height = width, height
            picture.pix_fmt = "yuv420p"
        track = output.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=track.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray((sound * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        for chunk in resampler.resample(frame) + resampler.resample(None):
            output.mux(track.encode(chunk))
        output.mux(track.encode(None))
        if picture:
            for number in range(int(len(sound) / RATE * fps)):
                pixels = np.full((height, width, 3), shade(number), dtype=np.uint8)
                image = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
                image.pts = number
                output.mux(picture.encode(image))
            output.mux(picture.encode(None))
    return destination


def store(path: Path) -> StoryMedia:
    """Keep a file as a recording, the way an upload is kept."""
    with open(path, "rb") as source:
        return recording_store(source=source, original_filename=path.name)


def damaged_recording(content: bytes, *, extension: str) -> StoryMedia:
    """A recording row whose file on disk is not what was kept (damaged after upload, or imported unchecked)."""
    media_id = uuid.uuid4()
    folder = Path(private_storage().location) / recording_folder(media_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"original{extension}").write_bytes(content)
    return StoryMedia.objects.create(
        id=media_id,
        file=f"{recording_folder(media_id)}/original{extension}",
        original_filename=f"damaged{extension}",
        size=len(content),
        sha256="0" * 64,
        container="mp3",
        audio_codec="mp3",
        duration_seconds=11.0,
    )


def bad_media_set(tmp_path: Path) -> dict[str, bytes]:
    """Zero bytes, a truncated MP3, random bytes and an HTML page named .mp3."""
    whole = write_audio(tmp_path / "whole.mp3", samples("jfk"), container="mp3", codec="libmp3lame").read_bytes()
    return {
        "zero bytes": b"",
        "truncated": whole[: len(whole) // 3],
        "random bytes": np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
        "html page": b"<!doctype html><html><head><title>Not found</title></head><body>404</body></html>\n" * 50,
    }


def words(text: str) -> list[str]:
    """Lower case, no accents, no punctuation: what a word error rate compares ("fríjoles" is "frijoles")."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9' ]+", " ", folded).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    distance = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        previous, distance[0] = distance[0], i
        for j, hyp_word in enumerate(hyp, start=1):
            previous, distance[j] = (
                distance[j],
                min(distance[j] + 1, distance[j - 1] + 1, previous + (ref_word != hyp_word)),
            )
    return distance[len(hyp)] / len(ref)


def finished_transcript(segments: list[tuple[float, float, str]], *, media: StoryMedia | None = None, **fields):
    """A done, current transcript with the given segments: for tests about what is shown, not how it was made."""
    from transcription.models import Segment, Transcript

    media = media or damaged_recording(b"not read in these tests", extension=".mp3")
    fields = {"status": Transcript.Status.DONE, "is_current": True, "language": "en", "progress": 100, **fields}
    transcript = Transcript.objects.create(media=media, model_name="tiny.en", **fields)
    for index, (start, end, text) in enumerate(segments):
        Segment.objects.create(transcript=transcript, index=index, start=start, end=end, text=text)
    return transcript


@contextmanager
def recordings_not_transcribed():
    """Recordings are kept as uploads are, but Whisper is not queued: the tests write their transcripts themselves."""
    receivers = recording_stored.receivers[:]
    recording_stored.receivers.clear()
    recording_stored.sender_receivers_cache.clear()
    try:
        yield
    finally:
        recording_stored.receivers[:] = receivers
        recording_stored.sender_receivers_cache.clear()
