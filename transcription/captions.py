"""Transcripts as files people and players use: WebVTT for the page's player, SRT for editors, plain text to read."""

from collections.abc import Iterable, Mapping

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


def _escaped(text: str) -> str:
    # Escaping ">" also keeps "-->", which would end the cue's text, out of the payload.
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _speaker(segment: Segment, speakers: Mapping[int, str] | None) -> str:
    """The display name of who says the segment, when it is one of the story's participants; else nothing."""
    return _one_line(speakers.get(segment.speaker_id, "")) if speakers and segment.speaker_id else ""


def webvtt(segments: Iterable[Segment], *, speakers: Mapping[int, str] | None = None) -> str:
    """A WebVTT file (https://www.w3.org/TR/webvtt1/) with one cue per segment, its speaker as a voice tag."""
    cues = ["WEBVTT", ""]
    for number, segment in enumerate(segments, start=1):
        text = _escaped(segment.text)
        if name := _speaker(segment, speakers):
            text = f"<v {_escaped(name)}>{text}"
        cues += [
            str(number),
            f"{_timestamp(segment.start, '.')} --> {_timestamp(segment.end, '.')}",
            text,
            "",
        ]
    return "\n".join(cues)


def _said(segment: Segment, speakers: Mapping[int, str] | None) -> str:
    name = _speaker(segment, speakers)
    return f"{name}: {_one_line(segment.text)}" if name else _one_line(segment.text)


def srt(segments: Iterable[Segment], *, speakers: Mapping[int, str] | None = None) -> str:
    """A SubRip file with one numbered cue per segment, "Name: words" when the speaker is known."""
    cues = []
    for number, segment in enumerate(segments, start=1):
        cues += [
            str(number),
            f"{_timestamp(segment.start, ',')} --> {_timestamp(segment.end, ',')}",
            _said(segment, speakers),
            "",
        ]
    return "\n".join(cues)


def plain_text(segments: Iterable[Segment], *, title: str = "", speakers: Mapping[int, str] | None = None) -> str:
    """The words, one segment a line, each with the moment it starts (02:15) and who says it when known; or that no
    speech was heard."""
    lines = [title, ""] if title else []
    spoken = [f"[{format_clock(segment.start)}] {_said(segment, speakers)}" for segment in segments]
    lines += spoken or [NO_SPEECH]
    return "\n".join(lines) + "\n"
