"""Times as people read them: 02:15, or 1:02:15 past the hour."""


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
