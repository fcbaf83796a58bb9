"""Which stories a listening report may be taken for, as this process last read the visibility rule's stored answer.

The beacon is posted for every few stretches a visitor hears, so it must not build the rule's nested subqueries for
each report. It reads the stored answer instead (stories/models/public.py, written in the transaction that hides a
story), and keeps what it read in this process: story id -> the length of its recording, or nothing for a story the
public may not hear. What it keeps is dropped as soon as the stored answer may have changed: every process reads a
version from the shared cache with each report, and a story hidden or shown anywhere moves that version on (now, and
again on commit, so an answer read from the old state while the change was being written is not kept either).

This answer only decides how the beacon replies. What is stored is decided by the rule itself, asked once per batch
when the counts are written (audience.services.figures_record): a report taken on a stale answer is never written.
"""

import secrets
import threading

from django.core.cache import cache
from django.db import transaction

from stories.models import PublicStory

VERSION_KEY = "audience:playable:version"
# Bounds this process's memory whatever ids are posted: past it, everything is read again.
MOST_HELD = 50_000

_lock = threading.Lock()
_held: dict[int, tuple[bool, float | None]] = {}  # story id -> (may be heard, its recording's length in seconds)
_version: int | None = None


class NotPlayable(LookupError):
    """The stored answer lists no public story with a recording under this id."""


def recording_seconds(story_id: int, *, version: int | None) -> float | None:
    """The length of the story's recording in seconds (None while unknown) if the stored answer lists the story as
    public with a recording; raises NotPlayable otherwise. `version`: VERSION_KEY as just read from the shared cache
    (the beacon reads it in the same round trip as its flood count)."""
    _follow(version)
    answer = _held.get(story_id)
    if answer is None:
        read_under = _version
        answer = _read(story_id)
        with _lock:
            # The beacon's threads share what is held: if another followed a newer version while this one read, the
            # read may be from before the change, and is used for this report only.
            if _version == read_under:
                if len(_held) >= MOST_HELD:
                    _held.clear()
                _held[story_id] = answer
    playable, seconds = answer
    if not playable:
        raise NotPlayable(story_id)
    return seconds


def _read(story_id: int) -> tuple[bool, float | None]:
    lengths = list(
        PublicStory.objects.listed()
        .filter(story_id=story_id, story__recording__isnull=False)
        .values_list("story__recording__duration_seconds", flat=True)[:1]
    )
    return (True, lengths[0]) if lengths else (False, None)


def _follow(version: int | None) -> None:
    """Drop what this process holds when the shared version moved on (or is gone: a cleared or restarted cache)."""
    global _version
    if version is None:
        version = _new_version()
        if not cache.add(VERSION_KEY, version, timeout=None):
            stored = cache.get(VERSION_KEY)
            if isinstance(stored, int):  # another process set it first
                version = stored
            else:  # not a version this code wrote
                cache.set(VERSION_KEY, version, timeout=None)
    if version != _version:
        with _lock:
            _held.clear()
            _version = version


def _new_version() -> int:
    # A number, which the Redis cache stores as it is: the beacon reads it without Django's cache in between.
    return secrets.randbits(62)


def forget(story_ids) -> None:
    """This process reads these stories again, and every other process reads everything again."""
    with _lock:
        for story_id in story_ids:
            _held.pop(story_id, None)
    cache.set(VERSION_KEY, _new_version(), timeout=None)


def forget_all() -> None:
    """Read every story again in this process (tests start from nothing)."""
    global _version
    with _lock:
        _held.clear()
        _version = None


def stories_hidden_forget(sender, story_ids, **kwargs):
    """Inside the transaction that hid them; again on commit, as another process may have read the old answer."""
    forget(story_ids)
    transaction.on_commit(lambda: forget(story_ids))


def story_visibility_changed_forget(sender, story_id, **kwargs):
    """On commit, after the stored answer caught up (stories' own receiver runs first): a story shown is heard."""
    forget([story_id])
