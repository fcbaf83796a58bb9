"""Each web process's tally of listening and searches that found nothing, written to the database in batches.

A beacon or a search only adds to counters in memory; every AUDIENCE_FLUSH_EVERY additions, or AUDIENCE_FLUSH_SECONDS
after the first one (a timer thread), and when the process exits, the counters are handed to the worker as one task
that writes them with one upsert per table. So recording listening never waits on the database, and a page never
waits on it either.
"""

import atexit
import datetime
import threading
from collections import Counter

from django.conf import settings
from django.db import connections

DEFAULT_FLUSH_EVERY = 1000
DEFAULT_FLUSH_SECONDS = 30

_lock = threading.Lock()
_plays: Counter = Counter()  # (story id, ISO day) -> plays
_heard: Counter = Counter()  # (story id, ISO day) -> stretches heard
_stretches: Counter = Counter()  # (story id, stretch) -> listens
_searches: Counter = Counter()  # (text, ISO day) -> searches
_additions = 0
_timer: threading.Timer | None = None


def add_listening(*, story_id: int, day: datetime.date, stretches: list[int], play: bool) -> None:
    global _additions
    with _lock:
        key = (story_id, day.isoformat())
        if play:
            _plays[key] += 1
        _heard[key] += len(stretches)
        for stretch in stretches:
            _stretches[(story_id, stretch)] += 1
        _additions += 1
    _after_addition()


def add_zero_result_search(*, text: str, day: datetime.date) -> None:
    global _additions
    with _lock:
        _searches[(text, day.isoformat())] += 1
        _additions += 1
    _after_addition()


def forget_story(story_id: int) -> None:
    """Drop what this process holds for a story (it was withdrawn): nothing of it is written after."""
    with _lock:
        for counter in (_plays, _heard, _stretches):
            for key in [key for key in counter if key[0] == story_id]:
                del counter[key]


def discard() -> None:
    """Drop everything counted and not yet handed over (tests start from nothing)."""
    global _additions
    with _lock:
        for counter in (_plays, _heard, _stretches, _searches):
            counter.clear()
        _additions = 0


def pending() -> int:
    with _lock:
        return _additions


def flush() -> bool:
    """Hand everything counted so far to the worker as one task; False when there was nothing to hand over."""
    global _additions, _timer
    with _lock:
        if _timer is not None:
            _timer.cancel()
            _timer = None
        if not _additions:
            return False
        days = {key: [_plays[key], _heard[key]] for key in _plays.keys() | _heard.keys()}
        listening = [[story_id, day, plays, heard] for (story_id, day), (plays, heard) in sorted(days.items())]
        stretches = [[story_id, stretch, listens] for (story_id, stretch), listens in sorted(_stretches.items())]
        searches = [[text, day, count] for (text, day), count in sorted(_searches.items())]
        for counter in (_plays, _heard, _stretches, _searches):
            counter.clear()
        _additions = 0
    from .tasks import record_figures

    record_figures.enqueue(listening=listening, stretches=stretches, searches=searches)
    return True


def _after_addition() -> None:
    global _timer
    every = getattr(settings, "AUDIENCE_FLUSH_EVERY", DEFAULT_FLUSH_EVERY)
    seconds = getattr(settings, "AUDIENCE_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS)
    if pending() >= every:
        flush()
        return
    if seconds:
        with _lock:
            if _timer is None and _additions:
                _timer = threading.Timer(seconds, _flush_from_timer)
                _timer.daemon = True
                _timer.start()


def _flush_from_timer() -> None:
    global _timer
    with _lock:
        _timer = None
    try:
        flush()
    finally:
        connections.close_all()  # this thread's own connection, opened to enqueue


@atexit.register
def _flush_at_exit() -> None:
    if not getattr(settings, "AUDIENCE_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS):
        return  # handed over only as batches fill (the tests' setting): a test process's database is gone by now
    try:
        flush()
    except Exception:  # noqa: BLE001 - a process going down with the database gone loses only its last counts
        pass
