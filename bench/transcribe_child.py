"""Transcribe WAV files in a fresh process and print one JSON line: texts, timings and the process's peak RSS.

Run by bench/transcription.py with the project's Python (engine "archive") or the bench environment's (engine "openai"),
so each engine's peak memory is its own and nothing one engine loaded is counted against the other.
"""

import argparse
import json
import os
import resource
import sys
import time
import wave
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent


def read_wav(path: str) -> np.ndarray:
    """16 kHz mono 16-bit WAV as float32 samples; both engines get exactly these samples."""
    with wave.open(path) as recording:
        frames = recording.readframes(recording.getnframes())
    return np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0


def archive_engine(model_dir: str, threads: int, beam_size: int):
    """The archive's own engine, exactly as the worker runs it, held to the bench's thread count."""
    sys.path.insert(0, str(REPOSITORY))
    from transcription import engine

    engine.available_cores = lambda: threads
    worker_engine = engine.FasterWhisperEngine(model_dir)
    assert beam_size == 5, "the archive's engine decodes with beam 5"

    def load():
        engine._loaded_model(str(engine.model_directory(model_dir)), threads)

    def transcribe(path: str) -> str:
        return " ".join(segment.text for segment in worker_engine.transcribe(path).segments)

    return load, transcribe


def plain_engine(model_dir: str, threads: int, beam_size: int):
    """faster-whisper with openai-whisper's options (no VAD), to tell the engine's speed from the VAD's."""
    from faster_whisper import WhisperModel

    holder = {}

    def load():
        holder["model"] = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)

    def transcribe(path: str) -> str:
        model = holder["model"]
        segments, _ = model.transcribe(
            read_wav(path),
            language="en" if not model.model.is_multilingual else None,
            beam_size=beam_size,
            best_of=5,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        return " ".join(segment.text.strip() for segment in segments)

    return load, transcribe


def openai_engine(checkpoint: str, threads: int, beam_size: int):
    """openai-whisper on the converted checkpoint, fp32 on the CPU, with the archive's decoding options."""
    import torch
    import whisper
    import whisper.transcribe
    from whisper.model import ModelDimensions, Whisper

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    holder = {}

    def load():
        saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model = Whisper(ModelDimensions(**saved["dims"]))
        model.load_state_dict(saved["model_state_dict"])
        # The word-timing heads from the CTranslate2 config, as set_alignment_heads would after loading by name.
        heads = torch.from_numpy(saved["alignment_heads"])
        model.register_buffer("alignment_heads", heads.to_sparse(), persistent=False)
        holder["model"] = model.eval()

    def transcribe(path: str) -> str:
        result = whisper.transcribe(
            holder["model"],
            read_wav(path),
            language="en" if not holder["model"].is_multilingual else None,
            beam_size=beam_size,
            best_of=5,
            fp16=False,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        return " ".join(segment["text"].strip() for segment in result["segments"])

    return load, transcribe


ENGINES = {"archive": archive_engine, "plain": plain_engine, "openai": openai_engine}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=list(ENGINES))
    parser.add_argument("model", help="CTranslate2 model folder (archive) or converted checkpoint (openai)")
    parser.add_argument("recordings", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument(
        "--as-worker", action="store_true", help="run at the transcription worker's lower priority (archive engine)"
    )
    arguments = parser.parse_args()
    if arguments.as_worker:
        sys.path.insert(0, str(REPOSITORY))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyarchive.settings.base")
        from django.conf import settings

        from transcription.engine import lower_priority

        lower_priority(settings.TRANSCRIPTION_WORKER_NICENESS)
    make = ENGINES[arguments.engine]
    load, transcribe = make(arguments.model, arguments.threads, arguments.beam_size)
    started = time.perf_counter()
    load()
    load_seconds = time.perf_counter() - started
    texts, seconds = [], []
    for recording in arguments.recordings:
        started = time.perf_counter()
        texts.append(transcribe(recording))
        seconds.append(time.perf_counter() - started)
    # ru_maxrss is in kilobytes on Linux.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_seconds": load_seconds, "seconds": seconds, "texts": texts, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    main()
