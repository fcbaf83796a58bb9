"""A recording's sound, read a few minutes at a time and cut where nobody is speaking.

faster-whisper works out the voice activity and the log-mel spectrogram of everything it is handed in one go, at about
1.4 MB per second of sound, and decoding a whole file at once holds it two or three times over. Reading one window at a
time keeps a worker's memory flat however long the story runs. The speech in a window is then cut again, in pauses,
into pieces Whisper can hear in one go (see speech_pieces).
"""

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Resample this many decoded samples at a time, as faster_whisper.audio.decode_audio does, so the samples are the same.
RESAMPLE_GROUP = 500_000
# A cut is a pause of at least this long; speech is padded by nothing, so the cut lands in the pause itself.
SHORTEST_PAUSE_MS = 300
QUIET_FRAME_SECONDS = 0.05


@dataclass
class SoundWindow:
    """Samples of one stretch of a recording and where that stretch starts, in samples from the beginning."""

    first_sample: int
    samples: np.ndarray
    rate: int

    @property
    def start(self) -> float:
        return self.first_sample / self.rate

    @property
    def end(self) -> float:
        return (self.first_sample + len(self.samples)) / self.rate


def sound_blocks(path: str | Path, *, rate: int) -> Iterator[np.ndarray]:
    """The recording's first audio track as mono float32 samples at `rate`, a few seconds at a time.

    Raises av.error.FFmpegError when the file cannot be read; frames FFmpeg calls invalid are skipped, as decode_audio
    skips them.
    """
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    fifo = av.AudioFifo()

    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        frames = container.decode(audio=0)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.InvalidDataError:
                continue
            frame.pts = None  # a gap in the timestamps is not a reason to stop
            fifo.write(frame)
            if fifo.samples >= RESAMPLE_GROUP:
                yield from _resampled(resampler, fifo.read())
        if fifo.samples:
            yield from _resampled(resampler, fifo.read())
        yield from _resampled(resampler, None)
    # PyAV frees some of the resampler's buffers only when the collector runs (faster-whisper issue 390).
    del resampler, fifo
    gc.collect()


def _resampled(resampler, frame) -> Iterator[np.ndarray]:
    """16-bit samples from the resampler as float32 in [-1, 1), the same arithmetic as decode_audio's."""
    for piece in resampler.resample(frame):
        yield piece.to_ndarray().reshape(-1).astype(np.float32) / 32768.0


def sound_windows(
    path: str | Path, *, rate: int, longest_seconds: float, search_seconds: float
) -> Iterator[SoundWindow]:
    """The recording in windows of at most `longest_seconds`, each ending in the longest pause near its end.

    The pause is looked for in the last `search_seconds`; a recording no longer than `longest_seconds` comes back whole.
    """
    longest = int(longest_seconds * rate)
    search = int(search_seconds * rate)
    pending: list[np.ndarray] = []
    pending_samples = 0
    first_sample = 0
    for block in sound_blocks(path, rate=rate):
        pending.append(block)
        pending_samples += len(block)
        while pending_samples > longest:
            held = np.concatenate(pending)
            cut = pause_position(held[:longest], search_from=longest - search, rate=rate)
            yield SoundWindow(first_sample=first_sample, samples=held[:cut], rate=rate)
            pending, pending_samples = [held[cut:]], len(held) - cut
            first_sample += cut
    if pending_samples:
        yield SoundWindow(first_sample=first_sample, samples=np.concatenate(pending), rate=rate)


def pause_position(samples: np.ndarray, *, search_from: int, rate: int) -> int:
    """Where to end a window: the middle of the longest pause after `search_from`, else its quietest moment."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    search_from = max(search_from, 0)
    tail = samples[search_from:]
    speech = get_speech_timestamps(
        tail, VadOptions(min_silence_duration_ms=SHORTEST_PAUSE_MS, speech_pad_ms=0), sampling_rate=rate
    )
    edges = [0] + [edge for chunk in speech for edge in (chunk["start"], chunk["end"])] + [len(tail)]
    pauses = [(edges[i + 1] - edges[i], edges[i]) for i in range(0, len(edges), 2) if edges[i + 1] > edges[i]]
    shortest_pause = SHORTEST_PAUSE_MS * rate // 1000
    longest_pause, pause_start = max(pauses, default=(0, 0))
    if longest_pause >= shortest_pause:
        return search_from + pause_start + longest_pause // 2
    # Speech (or what the VAD takes for it) runs right through: cut where the sound is weakest.
    frame = max(int(QUIET_FRAME_SECONDS * rate), 1)
    frames = tail[: len(tail) // frame * frame].reshape(-1, frame)
    if not len(frames):
        return len(samples)
    return search_from + int(np.argmin(np.square(frames).mean(axis=1))) * frame + frame // 2


@dataclass
class SpeechPiece:
    """A stretch of a window's speech, silences between its parts left out, and where each part lies in the window."""

    samples: np.ndarray
    chunks: list[dict]  # {"start", "end"} in samples from the window's start, as faster-whisper's VAD gives them


def speech_pieces(
    window: np.ndarray, *, rate: int, longest_seconds: float, search_seconds: float
) -> Iterator[SpeechPiece]:
    """The speech in a window, found as faster-whisper's VAD filter finds it, in pieces of at most `longest_seconds`.

    The speech is joined up as the VAD filter joins it, then cut in the longest pause of each piece's last
    `search_seconds` (the gap between two stretches of speech is such a pause), so no word is cut in two. A window
    with no speech has no pieces.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(window, VadOptions(), sampling_rate=rate)
    if not chunks:
        return
    speech = np.concatenate([window[chunk["start"] : chunk["end"]] for chunk in chunks])
    longest = int(longest_seconds * rate)
    search = int(search_seconds * rate)
    start = 0
    while start < len(speech):
        end = len(speech)
        if end - start > longest:
            end = start + pause_position(speech[start : start + longest], search_from=longest - search, rate=rate)
        yield SpeechPiece(samples=speech[start:end], chunks=_window_chunks(chunks, start, end))
        start = end


def _window_chunks(chunks: list[dict], start: int, end: int) -> list[dict]:
    """The parts of the window that samples start:end of the joined speech came from."""
    parts, joined = [], 0
    for chunk in chunks:
        length = chunk["end"] - chunk["start"]
        first, last = max(start - joined, 0), min(end - joined, length)
        if first < last:
            parts.append({"start": chunk["start"] + first, "end": chunk["start"] + last})
        joined += length
    return parts


def loudness_dbfs(samples: np.ndarray) -> float:
    """How loud samples in [-1, 1) are on average (their RMS), in decibels below full scale; -inf for no sound."""
    if not len(samples):
        return float("-inf")
    power = float(np.mean(np.square(samples, dtype=np.float64)))
    return 10 * float(np.log10(power)) if power > 0 else float("-inf")
