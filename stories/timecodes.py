"""Times as people read them: 02:15, or 1:02:15 past the hour; and the clip a ?t= link asks for."""

import math
from dataclasses import dataclass


def format_clock(seconds: float) -> str:
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class TimedSpan:
    """Something said at a time in a recording (a transcript line, a search moment): `start` is in seconds."""

    start: float

    @property
    def seconds(self) -> int:
        # Rounded down so a ?t= link never starts after the first word.
        return int(self.start)

    @property
    def clock(self) -> str:
        return format_clock(self.start)


# The longest ?t= value read: "1:02:15,1:03:00" and a little more; anything longer is not a time.
LONGEST_TIME_PARAMETER = 24


def parse_moment(raw: str) -> int | None:
    """Whole seconds from 135, 135.5, 02:15 or 1:02:15; None for anything else (garbage, negative, too long)."""
    raw = raw.strip()
    if not raw or len(raw) > 12:
        return None
    try:
        if ":" in raw:
            parts = raw.split(":")
            if len(parts) > 3 or not all(part.isdigit() for part in parts):
                return None
            seconds = 0
            for part in parts:
                seconds = seconds * 60 + int(part)
        else:
            seconds = int(float(raw))
    except (ValueError, OverflowError):
        return None
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class Clip:
    """What a ?t= link asks to hear: from `start`, up to `end` when it names one; `problem` says what was corrected."""

    start: int
    end: int | None = None
    problem: str = ""

    @property
    def parameter(self) -> str:
        """The ?t= value that asks for this clip."""
        return f"{self.start},{self.end}" if self.end is not None else str(self.start)

    @property
    def label(self) -> str:
        """02:15–02:50, or 02:15 for a moment."""
        if self.end is None:
            return format_clock(self.start)
        return f"{format_clock(self.start)}\N{EN DASH}{format_clock(self.end)}"


def clip_from(raw: str | None, *, duration: float | None = None) -> Clip | None:
    """The clip a ?t= value asks for (135, 02:15, 135,170 or 02:15,02:50), corrected to fit a recording of
    `duration` seconds when it is known. None when there is no value; a Clip with `problem` set when part of it could
    not be used, saying what the page plays instead (in its own words: what a link says is never shown back)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    start_text, comma, end_text = raw.partition(",")
    start = parse_moment(start_text) if len(raw) <= LONGEST_TIME_PARAMETER else None
    if start is None:
        return Clip(0, problem="The time in this link could not be read, so the story plays from the start.")
    if duration is not None and start >= duration:
        return Clip(
            0,
            problem=f"This link starts at {format_clock(start)}, after the recording ends "
            f"({format_clock(duration)}), so the story plays from the start.",
        )
    if not comma:
        return Clip(start)
    end = parse_moment(end_text)
    if end is None:
        return Clip(
            start,
            problem=f"The end of this link's clip could not be read, so the story plays on from {format_clock(start)}.",
        )
    if end <= start:
        return Clip(
            start,
            problem=f"The end of this link's clip ({format_clock(end)}) is not after its start, "
            f"so the story plays on from {format_clock(start)}.",
        )
    if duration is not None and end > duration:
        # Past the recording's end: the clip runs to the end, which the page names.
        return Clip(start, math.ceil(duration))
    return Clip(start, end)
