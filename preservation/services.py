"""BagIt 1.0 packages (RFC 8493) of stories for a preservation repository.

Each story's files are copied in chunks, hashed as they are copied, so a bag of several gigabytes is read once and
never held in memory. The payload manifest is written from those checksums; bagit-python then writes bag-info.txt
and the tag manifest, reading only the small tag files (its make_bag would read every recording a second time). The
bag is written under a ".partial" name and renamed when complete, so a half-written bag never looks finished.
"""

import dataclasses
import datetime
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify

from iiif.manifests import RIGHTS
from stories.models import Consent, StoryPage, private_storage
from stories.storage import StoredFile, stored_file
from transcription import captions
from transcription.selectors import current_transcript

from .selectors import BagSelection

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
DC = "http://purl.org/dc/elements/1.1/"
ACCESS_NOTE = (
    "Holds consent records with participants' full names: for the archive's facilitators and a preservation "
    "repository, never for public download."
)

Progress = Callable[[int, int], None]  # (bytes written, bytes in all)


@dataclasses.dataclass
class _Planned:
    """One payload file: copied from a stored file, or written from text made here."""

    path: str  # inside data/
    source: StoredFile | None = None
    content: bytes = b""

    @property
    def size(self) -> int:
        return self.source.size if self.source else len(self.content)


def _stored(field) -> StoredFile | None:
    """A recording's file in private storage (on the disk or in a bucket), or None when it has none or it is gone."""
    if not field:
        return None
    try:
        return stored_file(private_storage(), field.name)
    except FileNotFoundError:
        return None


def _dublin_core(record: dict) -> bytes:
    ElementTree.register_namespace("dc", DC)
    root = ElementTree.Element("metadata")
    for element, values in record.items():
        for value in values if isinstance(values, list) else [values]:
            if value not in (None, ""):
                ElementTree.SubElement(root, f"{{{DC}}}{element}").text = str(value)
    ElementTree.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8") + b"\n"


def _json(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n").encode()


def _written_text(story: StoryPage) -> str:
    parts = []
    for block in story.body:
        if block.block_type == "paragraph":
            parts.append(strip_tags(block.value.source).strip())
        elif block.block_type == "quote":
            attribution = f" ({block.value['attribution']})" if block.value.get("attribution") else ""
            parts.append(f"“{block.value['text']}”{attribution}")
        elif block.block_type == "image":
            parts.append(f"[Picture: {block.value['alt_text']}. {block.value.get('caption') or ''}]".strip())
    return "\n\n".join(part for part in parts if part)


def _consents(story: StoryPage) -> list[dict]:
    roles = {p.person_id: p.get_role_display() for p in story.participants.all()}
    return [
        {
            "person": consent.person.display_name if consent.person else None,
            "full_name": consent.person.full_name if consent.person else None,
            "role": roles.get(consent.person_id),
            "given_by": consent.given_by,
            "given_at": consent.given_at.isoformat(),
            "method": consent.get_method_display(),
            "scope": consent.get_scope_display(),
            "guardian_name": consent.guardian_name or None,
            "guardian_consented_on": consent.guardian_consented_on,
            "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
        }
        for consent in Consent.objects.filter(story=story).select_related("person").order_by("given_at", "pk")
    ]


def _story_files(story: StoryPage, *, public: bool) -> list[_Planned]:
    folder = f"stories/{story.pk}-{slugify(story.title)[:60] or 'story'}"
    files: list[_Planned] = []
    media = story.recording
    kind = {"audio": "Sound", "video": "MovingImage", "text": "Text"}[story.kind]
    record = {
        "id": story.pk,
        "title": story.title,
        "summary": story.summary,
        "url": story.full_url,
        "public": public,
        "live": story.live,
        "visibility": story.visibility,
        "embargo_until": story.embargo_until,
        "community": story.community.name if story.community_id else None,
        "dialogue": str(story.dialogue) if story.dialogue_id else None,
        "themes": [theme.name for theme in story.themes.all()],
        "content_notes": [note.name for note in story.content_notes.all()],
        "language": story.language,
        "recorded_on": story.recorded_on,
        "kind": story.kind,
        "participants": [
            {
                "display_name": p.person.display_name,
                "role": p.get_role_display(),
                "generation": p.person.generation.label,
            }
            for p in story.participants.select_related("person").order_by("sort_order", "pk")
        ],
        "recording": None,
        "transcript": None,
        "rights": RIGHTS,
    }
    if media is not None:
        original = _stored(media.file)
        record["recording"] = {
            "original_filename": media.original_filename,
            "sha256_at_upload": media.sha256,
            "size": media.size,
            "content_type": media.content_type,
            "container": media.container,
            "audio_codec": media.audio_codec,
            "video_codec": media.video_codec,
            "duration_seconds": media.duration_seconds,
            "width": media.width,
            "height": media.height,
            "uploaded_at": media.created_at,
            "fixity_checked_at": media.fixity_checked_at,
        }
        if original is None:
            raise FileNotFoundError(f"The original recording of story {story.pk} ({media.file.name}) is missing.")
        files.append(_Planned(f"{folder}/recording/original{Path(media.file.name).suffix.lower()}", source=original))
        access = _stored(media.access_copy)
        if access:
            files.append(_Planned(f"{folder}/recording/access{Path(access.name).suffix.lower()}", source=access))
        poster = _stored(media.poster)
        if poster:
            files.append(_Planned(f"{folder}/recording/poster{Path(poster.name).suffix.lower()}", source=poster))
        transcript = current_transcript(media_id=media.pk)
        if transcript is not None:
            segments = list(transcript.segments.order_by("index"))
            record["transcript"] = {
                "language": transcript.language,
                "model": transcript.model_name,
                "engine": transcript.engine,
                "machine_generated": transcript.machine_generated,
                "reviewed": transcript.reviewed,
                "reviewed_at": transcript.reviewed_at,
                "no_speech": transcript.no_speech,
            }
            timed = {
                **record["transcript"],
                "segments": [
                    {"start": s.start, "end": s.end, "text": s.text, "words": s.words, "edited": s.edited}
                    for s in segments
                ],
            }
            files += [
                _Planned(f"{folder}/transcript/transcript.vtt", content=captions.webvtt(segments).encode()),
                _Planned(
                    f"{folder}/transcript/transcript.txt",
                    content=captions.plain_text(segments, title=story.title).encode(),
                ),
                _Planned(f"{folder}/transcript/transcript.json", content=_json(timed)),
            ]
    written = _written_text(story)
    if written:
        files.append(_Planned(f"{folder}/written/story.txt", content=(written + "\n").encode()))
        files.append(_Planned(f"{folder}/written/story.json", content=_json(story.body.get_prep_value())))
    dublin_core = {
        "title": story.title,
        "creator": [p["display_name"] for p in record["participants"] if p["role"] == "Storyteller"],
        "contributor": [p["display_name"] for p in record["participants"] if p["role"] != "Storyteller"],
        "subject": record["themes"],
        "description": story.summary,
        "publisher": settings.WAGTAIL_SITE_NAME,
        "date": story.recorded_on,
        "type": kind,
        "format": media.content_type if media else "text/plain",
        "identifier": story.full_url,
        "language": story.language,
        "coverage": record["community"],
        "rights": RIGHTS,
    }
    files += [
        _Planned(f"{folder}/metadata/dublin-core.xml", content=_dublin_core(dublin_core)),
        _Planned(f"{folder}/metadata/story.json", content=_json(record)),
        _Planned(f"{folder}/consent.json", content=_json(_consents(story))),
    ]
    return files


def _copy(planned: _Planned, destination: Path, *, on_chunk: Callable[[int], None]) -> str:
    """Write one payload file, hashing it as it is written; returns its SHA-256."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(destination, "wb") as written:
        if planned.source is None:
            digest.update(planned.content)
            written.write(planned.content)
            on_chunk(len(planned.content))
        else:
            for chunk in planned.source.chunks(chunk_size=CHUNK_SIZE):
                digest.update(chunk)
                written.write(chunk)
                on_chunk(len(chunk))
    return digest.hexdigest()


def bag_name(selection: BagSelection, *, at: datetime.datetime) -> str:
    return f"storyarchive-{slugify(selection.described_as)}-{at:%Y%m%dT%H%M%SZ}"


def bag_write(
    *, selection: BagSelection, output_dir: Path, exported_by: str, on_progress: Progress | None = None
) -> Path:
    """Write a BagIt bag of the selected stories into a new folder in output_dir; returns the bag's path."""
    import bagit

    started = timezone.now()
    at = started.astimezone(datetime.UTC)
    planned: list[_Planned] = []
    for story in selection.stories:
        planned += _story_files(story, public=story.pk not in selection.not_public)
    total = sum(file.size for file in planned)

    output_dir.mkdir(parents=True, exist_ok=True)
    name = bag_name(selection, at=at)
    for attempt in range(1, 100):
        # Two bags of the same stories in one second get -2, -3: a bag is never written over another.
        final = output_dir / (name if attempt == 1 else f"{name}-{attempt}")
        partial = final.with_name(final.name + ".partial")
        if not final.exists():
            try:
                partial.mkdir()
                break
            except FileExistsError:
                continue
    else:
        raise FileExistsError(f"{output_dir / name} already exists.")
    written = 0

    def count(length: int) -> None:
        nonlocal written
        written += length
        if on_progress:
            on_progress(written, total)

    manifest_lines = []
    for file in planned:
        checksum = _copy(file, partial / "data" / file.path, on_chunk=count)
        manifest_lines.append(f"{checksum}  data/{file.path}\n")
    (partial / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    (partial / "manifest-sha256.txt").write_text("".join(manifest_lines), encoding="utf-8")

    bag = bagit.Bag(str(partial))
    bag.info.update(
        {
            "Source-Organization": settings.WAGTAIL_SITE_NAME,
            "Organization-Address": settings.WAGTAILADMIN_BASE_URL,
            "External-Description": f"{len(selection.stories)} stories from the {selection.described_as}: "
            f"{selection.title}",
            "External-Identifier": selection.described_as,
            "Bagging-Date": at.date().isoformat(),
            "Bagging-Time": at.isoformat(timespec="seconds"),
            "Exported-By": exported_by,
            "Bag-Software-Agent": f"Story Archive export_bag (bagit-python {bagit.VERSION})",
            "Bag-Count": "1 of 1",
            "Payload-Oxum": f"{total}.{len(planned)}",
            "Bag-Size": _human_size(total),
            "Access-Note": ACCESS_NOTE,
        }
    )
    if selection.not_public:
        bag.info["Includes-Not-Public"] = (
            f"yes, exported on purpose: {len(selection.not_public)} of {len(selection.stories)} stories in this bag "
            f"may not be seen by the public (ids {', '.join(map(str, selection.not_public))})"
        )
    elif selection.left_out_not_public:
        bag.info["Not-Public-Left-Out"] = f"{selection.left_out_not_public} stories the public may not see"
    bag.save(manifests=False)
    os.rename(partial, final)
    logger.info(
        "bag: %s (%s files, %s bytes) written in %.1f s by %s",
        final,
        len(planned),
        total,
        (timezone.now() - started).total_seconds(),
        exported_by,
    )
    return final


def _human_size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            return f"{size:.1f} {unit}"


# Bags facilitators ask for in the admin ------------------------------------------------------------------------------


def bag_root() -> Path:
    """Where the admin's bags are written: beside the private recordings, under no URL any server maps."""
    return Path(settings.PRIVATE_MEDIA_ROOT).parent / "bags"


def bag_export_request(*, user, story=None, collection=None, include_not_public: bool = False):
    """Record a facilitator's request for a bag and queue the worker to write it, once the request is saved."""
    from django.db import transaction

    from .models import BagExport
    from .tasks import write_bag

    export = BagExport.objects.create(
        story=story, collection=collection, include_not_public=include_not_public, requested_by=user
    )
    transaction.on_commit(lambda: write_bag.enqueue(export_id=export.pk))
    return export


def bag_export_run(*, export_id: int) -> None:
    """Write a requested bag, saving progress as it goes; a failure is recorded with its reason."""
    from django.db import transaction

    from .models import BagExport
    from .selectors import NothingToBag, bag_selection

    with transaction.atomic():
        export = BagExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status != BagExport.Status.QUEUED:
            return
        export.status = BagExport.Status.RUNNING
        export.save(update_fields=["status"])
    user = export.requested_by
    try:
        selection = bag_selection(
            story_id=export.story_id if export.story_id else None,
            collection_slug=export.collection.slug if export.collection_id else None,
            include_not_public=export.include_not_public,
        )
        saved = 0

        def progress(written: int, total: int) -> None:
            nonlocal saved
            # About a hundred small writes for a whole bag, however large.
            if written == total or written - saved >= max(total // 100, 1):
                saved = written
                BagExport.objects.filter(pk=export_id).update(bytes_written=written, bytes_total=total)

        path = bag_write(
            selection=selection,
            output_dir=bag_root(),
            exported_by=f"{user.get_username()} ({user.email or 'no e-mail'}) in the admin" if user else "the admin",
            on_progress=progress,
        )
    except (NothingToBag, FileNotFoundError, FileExistsError) as error:
        BagExport.objects.filter(pk=export_id).update(
            status=BagExport.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        logger.warning("bag %s failed: %s", export_id, error)
        return
    story_ids = [story.pk for story in selection.stories]
    BagExport.objects.filter(pk=export_id).update(
        status=BagExport.Status.DONE, folder=path.name, story_ids=story_ids, finished_at=timezone.now()
    )
    # A story withdrawn while the bag was written: its withdrawal found no finished bag holding it, so look again
    # now that this one is recorded (a withdrawal from here on finds it).
    if StoryPage.objects.filter(pk__in=story_ids, withdrawn_at__isnull=False).exists():
        export.folder = path.name
        bag_export_delete(export=export, reason="A story in this bag was withdrawn; the bag was deleted.")


def bag_export_delete(*, export, reason: str = "") -> None:
    """Delete a bag's files from the server and say so on its row."""
    import shutil

    from .models import BagExport

    if export.folder:
        shutil.rmtree(bag_root() / export.folder, ignore_errors=True)
    BagExport.objects.filter(pk=export.pk).update(status=BagExport.Status.REMOVED, folder="", error=reason)


def bags_forget_story(*, story_id: int) -> int:
    """Delete every admin bag holding a story that was withdrawn; returns how many."""
    from .models import BagExport

    holding = [
        export
        for export in BagExport.objects.exclude(status=BagExport.Status.REMOVED)
        if story_id in export.story_ids or export.story_id == story_id
    ]
    for export in holding:
        bag_export_delete(export=export, reason="A story in this bag was withdrawn; the bag was deleted.")
    return len(holding)
