"""A recording read a few minutes at a time: the same samples as decoding it whole, cut only where nobody speaks."""

import numpy as np

from tests.transcription.recordings import RATE, samples, write_audio
from transcription.sound import sound_windows, speech_pieces


def talk_with_pauses(names: list[str], *, seconds: float) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The named clips in turn, each followed by half a second of silence, until `seconds` are reached; and where each
    pause lies, in samples."""
    pause = np.zeros(RATE // 2, dtype=np.float32)
    clips = [samples(name) for name in names]
    sound, pauses, position, index = [], [], 0, 0
    while position < seconds * RATE:
        spoken = clips[index % len(clips)]
        sound += [spoken, pause]
        position += len(spoken)
        pauses.append((position, position + len(pause)))
        position += len(pause)
        index += 1
    return np.concatenate(sound), pauses


def test_windows_hold_every_sample_once_and_end_in_the_pauses_between_speakers(tmp_path):
    """Clips back to back with half-second pauses for five minutes: every cut lands in a pause, never in a word."""
    from faster_whisper.audio import decode_audio

    talk, pauses = talk_with_pauses(["jfk", "garden", "school"], seconds=5 * 60)
    path = write_audio(tmp_path / "talk.flac", talk, container="flac", codec="flac")

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


def test_speech_is_handed_on_in_pieces_whisper_hears_whole_cut_in_the_pauses_between_sentences():
    """Over a minute of talk with half-second pauses, which the VAD takes as one stretch of speech: every piece is at
    most 30 seconds, each cut lands in a pause, and the pieces hold all the speech once, each part where it was."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    lead = np.zeros(2 * RATE, dtype=np.float32)
    talk, pauses = talk_with_pauses(["garden", "school"], seconds=73)
    window = np.concatenate([lead, talk, lead])
    pauses = [(start + len(lead), end + len(lead)) for start, end in pauses]

    pieces = list(speech_pieces(window, rate=RATE, longest_seconds=30, search_seconds=20))

    (speech,) = get_speech_timestamps(window, VadOptions(), sampling_rate=RATE)
    assert speech["end"] - speech["start"] > 60 * RATE
    assert len(pieces) >= 3 and all(len(piece.samples) <= 30 * RATE for piece in pieces)
    for piece in pieces:
        assert np.array_equal(np.concatenate([window[c["start"] : c["end"]] for c in piece.chunks]), piece.samples)
    parts = [chunk for piece in pieces for chunk in piece.chunks]
    assert parts[0]["start"] == speech["start"] and parts[-1]["end"] == speech["end"]
    assert all(a["end"] == b["start"] for a, b in zip(parts, parts[1:], strict=False))
    for piece in pieces[:-1]:
        cut = piece.chunks[-1]["end"]
        assert any(start <= cut <= end for start, end in pauses), f"cut at {cut / RATE:.2f} s is inside a clip"


def test_silence_has_no_speech_to_hand_on_and_a_short_talk_is_one_piece():
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    silence = np.zeros(3 * RATE, dtype=np.float32)
    assert list(speech_pieces(silence, rate=RATE, longest_seconds=30, search_seconds=20)) == []

    window = np.concatenate([silence, samples("jfk"), silence])
    (piece,) = speech_pieces(window, rate=RATE, longest_seconds=30, search_seconds=20)
    assert piece.chunks == get_speech_timestamps(window, VadOptions(), sampling_rate=RATE)
