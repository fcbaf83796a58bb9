"""A story's pictures once the public may no longer see the story.

Pictures are Wagtail images (a story's cover, the images in its text): files at public addresses under /media/,
which nginx serves without asking Django, and which anyone may have kept while the story was public. When the rule
stops showing a story, each picture it shows gets a new file name and loses its resized copies (Wagtail makes them
again, under new names, wherever a page still shows it), so no address it had leads to it any more. A withdrawal
deletes the pictures nothing else shows (stories/services/withdrawal.py). Both act on commit, before the response:
Wagtail's own deletion of files waits for the task worker, which may be busy transcribing.
"""

import logging
import re
import secrets
from collections.abc import Iterable
from pathlib import PurePosixPath

from django.db import transaction
from wagtail.images import get_image_model

from ..storage import delete_files

logger = logging.getLogger(__name__)

# The part a new address adds to a picture's file name, taken off again before the next one is added.
_ADDRESS_PART = re.compile(r"\.[0-9a-f]{16}$")


def pictures_shown_by(stories: Iterable) -> set[int]:
    """The ids of the pictures these stories show (pages, or revisions as pages): covers and images in their text."""
    ids = set()
    for story in stories:
        ids.add(story.cover_image_id)
        # The stored ids, without reading each picture: one deleted since is simply not found later.
        ids.update(block["value"].get("image") for block in story.body.raw_data if block["type"] == "image")
    return ids - {None}


def picture_file_names(image) -> list[str]:
    """The stored names of a picture's file and of its resized copies' files."""
    return [image.file.name, *image.renditions.values_list("file", flat=True)]


def files_delete_on_commit(storage, names: list[str]) -> None:
    """Delete these files from this storage once the transaction commits (at once outside one). A failure is logged
    and the callbacks after it still run (the copies of the rule's answer catch up in them)."""
    transaction.on_commit(lambda: delete_files(storage, names), robust=True)


def pictures_readdress_on_commit(*, story_ids: Iterable[int]) -> None:
    """The rule stopped showing these stories: once that commits, every picture they show now gets a new address.

    The pictures are read now, before anything later in the transaction (a withdrawal) empties the stories."""
    from ..models import StoryPage

    image_ids = pictures_shown_by(StoryPage.objects.filter(pk__in=list(story_ids)).only("cover_image", "body"))
    if image_ids:
        transaction.on_commit(lambda: pictures_readdress(image_ids=image_ids), robust=True)


def pictures_readdress(*, image_ids: Iterable[int]) -> int:
    """Give each of these pictures a new file name, and delete its resized copies and the files it had: no address
    it had leads to it any more. Returns how many pictures were given a new address."""
    image_model = get_image_model()
    limit = image_model._meta.get_field("file").max_length
    readdressed = 0
    for image in image_model.objects.filter(pk__in=list(image_ids)):
        storage = image.file.storage
        old_names = picture_file_names(image)
        path = PurePosixPath(image.file.name)
        stem = _ADDRESS_PART.sub("", path.stem)
        try:
            with storage.open(image.file.name) as original:
                new_name = storage.save(
                    str(path.with_name(f"{stem}.{secrets.token_hex(8)}{path.suffix}")), original, max_length=limit
                )
        except FileNotFoundError:
            logger.warning("picture %s: its file %s is missing; its resized copies are deleted", image.pk, path)
            new_name = None
        # Wagtail deletes their files too, through the task worker; they are deleted below at once.
        image.renditions.all().delete()
        if new_name is not None:
            image.file.name = new_name
            image.save(update_fields=["file"])
            readdressed += 1
        delete_files(storage, old_names)
    if readdressed:
        logger.info("%s pictures of stories the public no longer sees have new addresses", readdressed)
    return readdressed
