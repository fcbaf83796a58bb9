"""Fixity: every preservation original is hashed again, a batch at a time, against the SHA-256 taken at upload.

A file that changed or went missing is recorded on its recording, logged as an error and reported by e-mail to the
administrators (superusers with an address). The daily task checks the originals checked longest ago (never-checked
first) until a byte budget is spent, so a large archive is cycled through over days without a long stall.
"""

import dataclasses
import hashlib
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from ..models import StoryMedia, private_storage
from ..storage import stored_file

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class FixityReport:
    checked: int = 0
    bytes_read: int = 0
    failed: list[StoryMedia] = dataclasses.field(default_factory=list)


def originals():
    """The recordings that keep a preservation original: every one the fixity check reads."""
    return StoryMedia.objects.exclude(file="")


def original_problem(media: StoryMedia) -> str:
    """What is wrong with the stored original, or "" when its bytes are the ones uploaded."""
    digest = hashlib.sha256()
    try:
        # Read through the storage API a megabyte at a time: from the disk or a bucket, never whole in memory.
        for chunk in stored_file(private_storage(), media.file.name).chunks():
            digest.update(chunk)
    except FileNotFoundError:
        return f"The original file {media.file.name} is missing."
    digest = digest.hexdigest()
    if digest != media.sha256:
        return f"The original file has changed since it was uploaded: SHA-256 {digest}, recorded {media.sha256}."
    return ""


def fixity_check(*, max_bytes: int | None = None, on_progress=None) -> FixityReport:
    """Check the originals checked longest ago, never-checked first, until `max_bytes` (None: every one)."""
    report = FixityReport()
    due = originals().order_by(F("fixity_checked_at").asc(nulls_first=True), "created_at")
    for media in due.iterator(chunk_size=100):
        if max_bytes is not None and report.checked and report.bytes_read + media.size > max_bytes:
            break
        problem = original_problem(media)
        StoryMedia.objects.filter(pk=media.pk).update(fixity_checked_at=timezone.now(), fixity_error=problem)
        report.checked += 1
        report.bytes_read += media.size
        if problem:
            media.fixity_error = problem
            report.failed.append(media)
            logger.error("fixity: recording %s (%s): %s", media.pk, media.original_filename, problem)
        if on_progress:
            on_progress(media)
    if report.failed:
        _tell_administrators(report.failed)
    logger.info(
        "fixity: %s originals checked (%s bytes), %s failed", report.checked, report.bytes_read, len(report.failed)
    )
    return report


def _tell_administrators(failed: list[StoryMedia]) -> None:
    from django.contrib.auth import get_user_model

    addresses = list(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not addresses:
        logger.error("fixity: no administrator has an e-mail address to be told of %s failed originals", len(failed))
        return
    lines = [
        f"- recording {media.pk} ({media.original_filename or 'no name'}): {media.fixity_error}" for media in failed
    ]
    send_mail(
        subject=f"Story Archive: {len(failed)} preservation original(s) failed the fixity check",
        message="\n".join(
            [
                "These recordings' stored originals are not the files that were uploaded.",
                "Restore each from a backup whose manifest holds the recorded SHA-256, then run",
                "`manage.py fixity_check` again.",
                "",
                *lines,
            ]
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=addresses,
    )
