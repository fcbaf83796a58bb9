"""Backups that come back: the database and both media roots in one folder, with a manifest of SHA-256 sums.

The media are read and written through the storage API, so recordings in a bucket (PRIVATE_STORAGE_URL) are backed
up into the folder and restored into the bucket as recordings on the disk are.

A backup is taken media first, then the database: a file deleted in between belonged to a story the database already
shows withdrawn. A recording stored in between is named by the database but not in the backup; after a restore,
`fixity_check` reports it missing.
SQLite is copied with its online backup API, PostgreSQL with `pg_dump`, both a consistent snapshot while the archive
runs. A restore checks every file against the manifest before it changes anything, then puts the database and the
media back, and then withdraws again every story whose withdrawal the replaced database recorded and the backup
does not know: a backup older than a withdrawal never brings a story back. Redactions are replayed the same way: each
recording redaction the replaced database held is made again, and an original rewritten with silence ("redact the
original too") since the backup is written again with it, its checksum taken again and its copies made again, before
the restore ends; a written story's redaction is made again as it was made; a backup older than a redaction never
brings its passage back.
"""

import dataclasses
import datetime
import hashlib
import json
import logging
import os
import sqlite3
import subprocess
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection

from ..models import StoryPage, Withdrawal, private_storage
from ..storage import stored_file, stored_names
from .withdrawal import story_withdraw

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_ROOTS = {"private": private_storage, "media": lambda: default_storage}


class BackupRefused(Exception):
    """A backup or restore that cannot be done as asked; the message says why and what to do."""


@dataclasses.dataclass
class RestoreReport:
    files: int
    withdrawals_replayed: list[int]
    # Per recording: the redactions made again and the passages of its original silenced again (see transcription).
    redactions_replayed: list = dataclasses.field(default_factory=list)
    written_redactions_replayed: list = dataclasses.field(default_factory=list)
    # Redactions undone since the backup, which the backup brings back (transcription.selectors.RedactionUndone):
    # left in force, to be undone again by whoever still wants them undone.
    undone_in_force_again: list = dataclasses.field(default_factory=list)


def _sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _copy_out(storage, destination: Path) -> None:
    """Every file of a storage (the disk or a bucket) into a folder, a megabyte at a time."""
    for name in stored_names(storage):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as written:
            for chunk in stored_file(storage, name).chunks():
                written.write(chunk)


def _copy_in(source: Path, storage) -> None:
    """Empty a storage, then put every file of the folder in it under the same name."""
    for name in list(stored_names(storage)):
        storage.delete(name)
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        if path.is_file():
            with open(path, "rb") as kept:
                storage.save(path.relative_to(source).as_posix(), File(kept))


def _postgres(command: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore on the configured database; its own words on failure."""
    settings = connection.settings_dict
    options = ["--host", settings.get("HOST") or "127.0.0.1", "--port", str(settings.get("PORT") or 5432)]
    if settings.get("USER"):
        options += ["--username", settings["USER"]]
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    done = subprocess.run([command, *options, *arguments], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupRefused(f"{command} failed: {done.stderr.strip() or done.returncode}")


def backup_create(*, destination: Path) -> Path:
    """Write a backup folder under `destination` and return it."""
    if connection.vendor not in DATABASE_FILES:
        raise BackupRefused(f"Backups cover SQLite and PostgreSQL, not {connection.vendor}.")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(destination) / f"storyarchive-{stamp}"
    folder.mkdir(parents=True)
    for name, storage in MEDIA_ROOTS.items():
        _copy_out(storage(), folder / name)
    database = folder / DATABASE_FILES[connection.vendor]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(database) as copy:
            connection.connection.backup(copy)
        copy.close()
    else:
        _postgres("pg_dump", "--format=custom", "--no-owner", "--file", str(database), connection.settings_dict["NAME"])
    files = {
        str(path.relative_to(folder)): {"size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    manifest = {"created_at": stamp, "database": connection.vendor, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    logger.info("backup %s written: %s files", folder, len(files))
    return folder


def backup_check(*, source: Path) -> dict:
    """The backup's manifest, once every file it lists is there with its size and SHA-256."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupRefused(
            f"{source} is not a Story Archive backup: its {MANIFEST} cannot be read ({error})."
        ) from None
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupRefused(f"The backup is missing {name}; nothing was restored.")
        if path.stat().st_size != expected["size"] or _sha256(path) != expected["sha256"]:
            raise BackupRefused(f"The backup's {name} is damaged (its SHA-256 differs); nothing was restored.")
    if manifest["database"] != connection.vendor:
        raise BackupRefused(
            f"The backup holds a {manifest['database']} database and this archive runs on {connection.vendor}."
        )
    return manifest


def backup_restore(*, source: Path) -> RestoreReport:
    """Put the backup's database and media in place of this archive's, then replay later withdrawals."""
    source = Path(source)
    manifest = backup_check(source=source)
    try:
        # Each withdrawn story with the page's own identity (Wagtail's translation key, kept by a withdrawal), so a
        # backup of another archive, whose ids mean other stories, is never touched.
        withdrawn_since = {
            story_id: (requested_by, key)
            for story_id, requested_by, key in Withdrawal.objects.filter(story__isnull=False).values_list(
                "story_id_removed", "requested_by", "story__translation_key"
            )
        }
    except DatabaseError:  # an empty machine: no tables yet
        withdrawn_since = {}
    redactions_held, written_held, undone = _redactions_held()
    database = source / DATABASE_FILES[manifest["database"]]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(database) as copy:
            copy.backup(connection.connection)
        copy.close()
    else:
        connection.close()
        _postgres(
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--dbname", connection.settings_dict["NAME"], str(database),
        )  # fmt: skip
    for name, storage in MEDIA_ROOTS.items():
        _copy_in(source / name, storage())
    replayed = []
    known = set(Withdrawal.objects.values_list("story_id_removed", flat=True))
    for story_id, (requested_by, key) in sorted(withdrawn_since.items()):
        story = StoryPage.objects.filter(pk=story_id, translation_key=key).first()
        if story_id in known or story is None:
            continue
        story_withdraw(story=story, requested_by=requested_by)
        replayed.append(story_id)
    redactions, written = _redactions_replay(redactions_held, written_held)
    in_force_again = _in_force_again(undone)
    logger.info(
        "restored %s from %s; withdrawals replayed: %s; recordings whose redactions were replayed: %s; written "
        "stories whose redactions were replayed: %s; redactions undone since the backup and in force again: %s",
        manifest["database"],
        source,
        replayed,
        [str(each.media_id) for each in redactions],
        written,
        len(in_force_again),
    )
    return RestoreReport(
        files=len(manifest["files"]),
        withdrawals_replayed=replayed,
        redactions_replayed=redactions,
        written_redactions_replayed=written,
        undone_in_force_again=in_force_again,
    )


# Redactions belong to the transcription app, which builds on this one: imported where used, not at the top.
def _redactions_held() -> tuple[list, list, list]:
    """The recordings' and the written stories' redactions this database holds, and the ones it undid."""
    from transcription.selectors import redactions_held, redactions_undone, written_redactions_held

    try:
        return redactions_held(), written_redactions_held(), redactions_undone()
    except DatabaseError:  # an empty machine: no tables yet
        return [], [], []


def _in_force_again(undone: list) -> list:
    from transcription.selectors import redactions_in_force_again

    return redactions_in_force_again(undone)


def _redactions_replay(held: list, written_held: list) -> tuple[list, list[int]]:
    from transcription.services import redactions_replay, written_redactions_replay

    return redactions_replay(held=held), written_redactions_replay(held=written_held)
