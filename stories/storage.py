"""Recordings' files through the storage API: on the disk (PRIVATE_MEDIA_ROOT) or in an S3-compatible bucket.

One code path for both. A library that needs a file name (PyAV, Whisper) gets `local_copy`: the stored file itself
when the storage has paths, else a temporary copy streamed from the storage and deleted afterwards. A file made on
this machine (an upload being checked, an access copy) waits in `staging_folder` and is handed to `store_local_file`:
on the disk that is a rename, to a bucket an upload. Listeners' bytes come from `stored_file`, which asks a bucket for
the bytes of a range only, never the whole recording.
"""

import datetime
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File

CHUNK_SIZE = 1024 * 1024


def has_local_paths(storage) -> bool:
    """Whether the storage keeps its files on this machine's disk, where a library can open them by name."""
    try:
        storage.path("")
    except NotImplementedError:
        return False
    return True


def staging_folder(storage) -> Path:
    """Where files wait on this machine before they are stored: beside the recordings when they are on the disk (so
    storing one is a rename), else in PRIVATE_MEDIA_ROOT's `uploads/`, the one local folder a bucket still needs."""
    root = Path(storage.path("")) if has_local_paths(storage) else Path(settings.PRIVATE_MEDIA_ROOT)
    folder = root / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _StagedFile(File):
    """A finished file on this machine. FileSystemStorage moves it into place (it has a temporary_file_path);
    django-storages' S3 backend uploads it in parts."""

    def __init__(self, path: Path, content_type: str = ""):
        super().__init__(open(path, "rb"), name=path.name)
        self._staged_path = path
        if content_type:
            self.content_type = content_type

    def temporary_file_path(self) -> str:
        return str(self._staged_path)


def store_local_file(storage, *, path: Path, name: str, content_type: str = "") -> str:
    """Store a finished local file under `name`, replacing what was there; the local file is gone afterwards.

    Returns the name it was stored under (the storage's own answer).
    """
    staged = _StagedFile(Path(path), content_type)
    try:
        with staged:
            return storage.save(name, staged)
    finally:
        Path(path).unlink(missing_ok=True)


def _bucket_object(storage, name: str):
    """The boto3 object behind a name in a django-storages S3 bucket; None for any other storage."""
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    if not isinstance(storage, S3Storage):
        return None
    return storage.bucket.Object(storage._normalize_name(clean_name(name)))


@dataclass
class StoredFile:
    """A stored file's size and time, and its bytes a stretch at a time."""

    storage: object
    name: str
    size: int
    modified: datetime.datetime
    _object: object = None

    def chunks(self, first: int = 0, length: int | None = None, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes from `first`, `length` of them (to the end by default), never more than the file's size."""
        length = self.size - first if length is None else min(length, self.size - first)
        if length <= 0:
            return
        remaining = length
        if self._object is not None:
            body = self._object.get(Range=f"bytes={first}-{first + length - 1}")["Body"]
            try:
                for chunk in body.iter_chunks(chunk_size):
                    chunk = chunk[:remaining]
                    remaining -= len(chunk)
                    yield chunk
                    if remaining <= 0:
                        break
            finally:
                body.close()
            return
        with self.storage.open(self.name, "rb") as stored:
            stored.seek(first)
            while remaining > 0:
                chunk = stored.read(min(chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


def stored_file(storage, name: str) -> StoredFile:
    """Look a stored file up (one request to a bucket); FileNotFoundError when it is not there."""
    bucket_object = _bucket_object(storage, name)
    if bucket_object is None:
        try:
            return StoredFile(storage, name, storage.size(name), storage.get_modified_time(name))
        except FileNotFoundError:
            raise
        except OSError as error:
            raise FileNotFoundError(name) from error
    from botocore.exceptions import ClientError

    try:
        bucket_object.load()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise FileNotFoundError(name) from error
        raise
    return StoredFile(storage, name, bucket_object.content_length, bucket_object.last_modified, bucket_object)


@contextmanager
def local_copy(storage, name: str) -> Iterator[Path]:
    """A path to the stored file for a library that opens files by name; a temporary copy when it is in a bucket.

    The copy is read once, stops at the file's own size and is deleted on leaving, whatever happened.
    FileNotFoundError when the file is not there; OSError when this machine has no room for the copy.
    """
    if has_local_paths(storage):
        path = Path(storage.path(name))
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path
        return
    stored = stored_file(storage, name)
    folder = staging_folder(storage)
    if shutil.disk_usage(folder).free < stored.size:
        raise OSError(f"No room on this machine for a {stored.size}-byte copy of a recording in {folder}.")
    handle, copy = tempfile.mkstemp(prefix="copy-", suffix=Path(name).suffix, dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in stored.chunks():
                out.write(chunk)
        yield Path(copy)
    finally:
        Path(copy).unlink(missing_ok=True)


def staged_path(storage, *, suffix: str = "") -> Path:
    """A new empty file in the staging folder, for something made here before it is stored."""
    handle, path = tempfile.mkstemp(prefix="made-", suffix=suffix, dir=staging_folder(storage))
    os.close(handle)
    return Path(path)


def stored_names(storage, folder: str = "") -> Iterator[str]:
    """Every file's name under a folder of the storage, at any depth."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    prefix = f"{folder.rstrip('/')}/" if folder else ""
    for file in files:
        yield prefix + file
    for directory in directories:
        yield from stored_names(storage, prefix + directory)


def delete_files(storage, names) -> None:
    """Delete these stored files (an empty name is skipped; a file already gone is no error)."""
    for name in names:
        if name:
            storage.delete(name)


def delete_folder(storage, folder: str) -> None:
    """Delete every file under a folder (and on the disk the folder itself)."""
    if has_local_paths(storage):
        shutil.rmtree(storage.path(folder), ignore_errors=True)
        return
    for name in list(stored_names(storage, folder)):
        storage.delete(name)


# Longer than any one worker's job: a file untouched this long in the staging folder belongs to no running process.
STAGED_LEFTOVER_AFTER = datetime.timedelta(days=2)


def staged_leftovers_clear(storage, *, idle_for: datetime.timedelta = STAGED_LEFTOVER_AFTER) -> int:
    """Delete what a killed process left in the staging folder (a worker's copy of a recording, a half-checked
    upload): every file untouched for `idle_for`. Returns how many went."""
    cutoff = time.time() - idle_for.total_seconds()
    count = 0
    for path in staging_folder(storage).iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                count += 1
        except FileNotFoundError:
            continue
    return count
