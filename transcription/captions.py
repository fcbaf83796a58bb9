"""Transcripts as files people and players use: WebVTT for the page's player, SRT for editors, plain text to read."""

from collections.abc import Iterable

from stories.timecodes import format_clock

from .models import Segment

NO_SPEECH = "No speech detected in this recording."


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(round(seconds * 1000), 0)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _one_line(text: str) -> str:
    # A blank line ends a cue in both formats, so a segment's text is always one line.
    return " ".join(text.split())


def webvtt(segments: Iterable[Segment]) -> str:
    """A WebVTT file (https://www.w3.org/TR/webvtt1/) with one cue per segment."""
    cues = ["WEBVTT", ""]
    for number, segment in enumerate(segments, start=1):
        # Escaping ">" also keeps "-->", which would end the cue's text, out of the payload.
        text = _one_line(segment.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cues += [
            str(number),
            f"{_timestamp(segment.start, '.')} --> {_timestamp(segment.end, '.')}",
            text,
            "",
        ]
    return "\n".join(cues)


def srt(segments: Iterable[Segment]) -> str:
    """A SubRip file with one numbered cue per segment."""
    cues = []
    for number, segment in enumerate(segments, start=1):
        cues += [
            str(number),
            f"{_timestamp(segment.start, ',')} --> {_timestamp(segment.end, ',')}",
            _one_line(segment.text),
            "",
        ]
    return "\n".join(cues)


def plain_text(segments: Iterable[Segment], *, title: str = "") -> str:
    """The words, one segment a line, each with the moment it starts (02:15); or that no speech was heard."""
    lines = [title, ""] if title else []
    spoken = [f"[{format_clock(segment.start)}] {_one_line(segment.text)}" for segment in segments]
    lines += spoken or [NO_SPEECH]
    return "\n".join(lines) + "\n"
