"""Storing recordings: streamed to this machine, hashed on the way in, probed, then kept in private storage."""

import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from .models import StoryMedia, private_storage
from .signals import recording_stored
from .storage import delete_folder, staging_folder, store_local_file

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
PROBE_TIMEOUT_SECONDS = 60
PROBE_MEMORY_BYTES = 1024**3
CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".webm": "video/webm",
    ".amr": "audio/amr",
    ".aac": "audio/aac",
}


class RecordingRefused(ValueError):
    """The file cannot be kept as a recording; the message says why, in plain words."""


class RecordingTooLarge(RecordingRefused):
    pass


def probe_recording(path: Path) -> dict:
    """Describe a media file in a child process with a time and memory limit; raise RecordingRefused if unfit."""

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY_BYTES, PROBE_MEMORY_BYTES))

    try:
        completed = subprocess.run(
            [sys.executable, "-m", "stories.probe", str(path), str(settings.STORY_MAX_DURATION_SECONDS)],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            preexec_fn=limit_memory,
            cwd=settings.BASE_DIR,
        )
    except subprocess.TimeoutExpired as error:
        raise RecordingRefused("This file took too long to read; it may be damaged.") from error
    try:
        description = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as error:
        logger.warning("probe of %s failed: %s", path, completed.stderr[-2000:])
        raise RecordingRefused("This file could not be read as audio or video.") from error
    if "error" in description:
        raise RecordingRefused(description["error"])
    limit = settings.STORY_MAX_DURATION_SECONDS
    if description["duration_seconds"] > limit:
        raise RecordingRefused(
            f"This recording says it lasts {description['duration_seconds'] / 3600:.1f} hours; "
            f"the archive takes recordings of up to {limit / 3600:g} hours."
        )
    return description


def _content_type(description: dict) -> str:
    content_type = CONTENT_TYPES[description["extension"]]
    if not description["video_codec"]:
        content_type = content_type.replace("video/", "audio/")  # an .m4a or audio-only .webm
    return content_type


def recording_folder(media_id: uuid.UUID) -> str:
    """Where a recording and its derived files live, relative to the private root. Never the client's name."""
    return f"recordings/{media_id.hex[:2]}/{media_id.hex}"


def _write_chunks(chunks: Iterable[bytes], destination: Path, max_bytes: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(destination, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise RecordingTooLarge(
                    f"This file is larger than the archive accepts ({max_bytes / 1024**3:g} GB at most)."
                )
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _read_chunks(source: BinaryIO) -> Iterable[bytes]:
    while chunk := source.read(CHUNK_SIZE):
        yield chunk


def original_name_as_text(original_filename: str) -> str:
    """The client's file name reduced to a label: no folders, no control characters. Never used in a path."""
    name = (original_filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip()[:255]


def recording_store(
    *,
    source: BinaryIO | Iterable[bytes],
    original_filename: str,
    max_bytes: int | None = None,
    process: bool = True,
) -> StoryMedia:
    """Stream a recording into private storage, hash it, probe it, and record it.

    A refused file leaves nothing behind. With `process`, the access copy and transcript are announced once the row
    commits; without, nothing is made until `recording_process` (a storyteller's upload waits for their consent).
    """
    media_id = uuid.uuid4()
    partial = staging_folder(private_storage()) / f"{media_id.hex}.part"
    chunks = _read_chunks(source) if hasattr(source, "read") else source
    try:
        size, sha256 = _write_chunks(chunks, partial, max_bytes or settings.STORY_UPLOAD_MAX_BYTES)
        return _keep(
            media_id=media_id,
            partial=partial,
            size=size,
            sha256=sha256,
            original_filename=original_filename,
            process=process,
        )
    finally:
        partial.unlink(missing_ok=True)


def recording_store_file(
    *, path: Path, original_filename: str, max_bytes: int | None = None, process: bool = True
) -> StoryMedia:
    """Keep a file already assembled on this machine (a resumable upload): moved, not copied, then hashed and probed.

    The file is read in chunks to hash it, so a large recording is never held in memory. Refused: the file is gone.
    `process` as for `recording_store`.
    """
    media_id = uuid.uuid4()
    partial = staging_folder(private_storage()) / f"{media_id.hex}.part"
    try:
        os.replace(path, partial)
        limit = max_bytes or settings.STORY_UPLOAD_MAX_BYTES
        with open(partial, "rb") as stored:
            digest = hashlib.sha256()
            size = 0
            for chunk in _read_chunks(stored):
                size += len(chunk)
                if size > limit:
                    raise RecordingTooLarge(
                        f"This file is larger than the archive accepts ({limit / 1024**3:g} GB at most)."
                    )
                digest.update(chunk)
        return _keep(
            media_id=media_id,
            partial=partial,
            size=size,
            sha256=digest.hexdigest(),
            original_filename=original_filename,
            process=process,
        )
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    finally:
        partial.unlink(missing_ok=True)


def _keep(
    *, media_id: uuid.UUID, partial: Path, size: int, sha256: str, original_filename: str, process: bool
) -> StoryMedia:
    if size == 0:
        raise RecordingRefused("This file is empty.")
    description = probe_recording(partial)
    content_type = _content_type(description)
    # Stored only once it is known to be a recording; a failure below leaves no row, and the file goes with it.
    name = store_local_file(
        private_storage(),
        path=partial,
        name=f"{recording_folder(media_id)}/original{description['extension']}",
        content_type=content_type,
    )
    try:
        media = _create_row(
            media_id=media_id,
            name=name,
            size=size,
            sha256=sha256,
            original_filename=original_filename,
            content_type=content_type,
            description=description,
        )
    except BaseException:
        delete_folder(private_storage(), recording_folder(media_id))
        raise
    if process:
        recording_process(media=media)
    logger.info("stored recording %s (%s bytes, %s)", media.id, size, media.container)
    return media


def _create_row(
    *, media_id, name: str, size: int, sha256: str, original_filename: str, content_type: str, description: dict
) -> StoryMedia:
    return StoryMedia.objects.create(
        id=media_id,
        file=name,
        original_filename=original_name_as_text(original_filename),
        size=size,
        sha256=sha256,
        content_type=content_type,
        container=description["container"],
        audio_codec=description["audio_codec"],
        video_codec=description["video_codec"],
        duration_seconds=description["duration_seconds"],
        width=description["width"],
        height=description["height"],
    )


def recording_process(*, media: StoryMedia) -> None:
    """Announce, once the transaction commits, that a recording needs its access copy and transcript."""
    media_id = media.pk
    transaction.on_commit(lambda: recording_stored.send(sender=StoryMedia, media_id=media_id))


def recording_delete_files(*, media: StoryMedia) -> None:
    """Remove a recording's original and every derived file from storage."""
    delete_folder(private_storage(), recording_folder(media.id))
