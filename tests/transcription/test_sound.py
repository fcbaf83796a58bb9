"""A recording read a few minutes at a time: the same samples as decoding it whole, cut only where nobody speaks."""

import numpy as np

from tests.transcription.recordings import RATE, samples, write_audio
from transcription.sound import sound_windows


def test_windows_hold_every_sample_once_and_end_in_the_pauses_between_speakers(tmp_path):
    """Clips back to back with half-second pauses for five minutes: every cut lands in a pause, never in a word."""
    from faster_whisper.audio import decode_audio

    pause = np.zeros(RATE // 2, dtype=np.float32)
    clips = [samples(name) for name in ["jfk", "garden", "school"]]
    pieces, pauses, position, index = [], [], 0, 0
    while position < 5 * 60 * RATE:
        spoken = clips[index % len(clips)]
        pieces += [spoken, pause]
        position += len(spoken)
        pauses.append((position, position + len(pause)))
        position += len(pause)
        index += 1
    path = write_audio(tmp_path / "talk.flac", np.concatenate(pieces), container="flac", codec="flac")

    windows = list(sound_windows(path, rate=RATE, longest_seconds=120, search_seconds=30))

    whole = decode_audio(str(path), sampling_rate=RATE)
    assert np.array_equal(np.concatenate([window.samples for window in windows]), whole)
    assert len(windows) >= 3 and all(len(window.samples) <= 120 * RATE for window in windows)
    for window in windows[1:]:
        cut = window.first_sample
        assert any(start <= cut <= end for start, end in pauses), f"cut at {cut / RATE:.2f} s is inside a clip"


def test_a_recording_shorter_than_a_window_comes_back_whole(tmp_path):
    from faster_whisper.audio import decode_audio

    path = write_audio(tmp_path / "jfk.wav", samples("jfk"), container="wav", codec="pcm_s16le")

    windows = list(sound_windows(path, rate=RATE, longest_seconds=120, search_seconds=30))

    assert (
        len(windows) == 1
        and windows[0].start == 0
        and np.array_equal(windows[0].samples, decode_audio(str(path), sampling_rate=RATE))
    )
