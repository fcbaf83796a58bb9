"""A bag's folder as a tar stream, written as it is read: headers and file chunks, never a whole file in memory."""

import tarfile
from collections.abc import Iterator
from pathlib import Path

CHUNK_SIZE = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE


def tar_stream(folder: Path) -> Iterator[bytes]:
    """A POSIX (pax) tar of folder, with the folder's name as the top directory."""
    for path in [folder, *sorted(folder.rglob("*"))]:
        info = tarfile.TarInfo(str(Path(folder.name) / path.relative_to(folder)))
        stat = path.stat()
        info.mtime = int(stat.st_mtime)
        if path.is_dir():
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        info.size, info.mode = stat.st_size, 0o644
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK_SIZE):
                yield chunk
        if info.size % BLOCK:
            yield b"\0" * (BLOCK - info.size % BLOCK)
    yield b"\0" * (2 * BLOCK)
