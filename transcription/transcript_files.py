"""Transcripts people already made, read from the files they bring: WebVTT, SRT, text with times, text without.

Every problem is reported with the line it is on, in words a facilitator can act on. WebVTT and SRT cues are read by
webvtt-py; the lines are checked here first, because the library skips a cue it cannot read without saying where.
"""

import html
import io
import re
from dataclasses import dataclass, field

# A two-hour interview written out is about 150 KB of text; its captions about twice that.
LARGEST_FILE_BYTES = 1024 * 1024
# Captions often run a moment past the end of the sound; within this, an end is taken as the recording's end.
END_GRACE_SECONDS = 1.0
# The words of a timed line whose recording length is unknown are given this long each.
SECONDS_PER_WORD = 0.4

WEBVTT, SRT, TIMED_TEXT, TEXT = "WebVTT", "SRT", "text with times", "text without times"

TIME_FORMS_HELP = (
    "WebVTT (.vtt) or SRT (.srt) captions, or plain UTF-8 text. In text, a line may begin with its time: "
    "[00:02:15], 00:02:15, [2:15] or (02:15.5), then the words; lines without a time continue the line above. "
    "Text with no times at all is lined up with the recording by the worker's speech recogniser."
)

_CLOCK = re.compile(r"(?:(?P<hours>\d{1,3}):)?(?P<minutes>\d{1,2}):(?P<seconds>\d{2})(?:[.,](?P<fraction>\d{1,3}))?")
_VTT_TIME = re.compile(r"(?:\d{1,3}:)?\d{2}:\d{2}\.\d{3}")
_SRT_TIME = re.compile(r"\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}")
# A line of text that begins with a time: an optional bracket, the clock, the bracket closed, an optional dash.
_TIMED_LINE = re.compile(r"^\s*(?P<open>[\[(])?(?P<clock>[\d:.,]+)(?(open)[\])])(?:\s*[-–—|]\s*|\s+|$)(?P<words>.*)$")
# What a line that meant to begin with a time looks like, so one mistyped is named rather than taken for words.
_LOOKS_TIMED = re.compile(r"^\s*[\[(]?\d{1,3}:\d")


class TranscriptFileError(ValueError):
    """A file that cannot be read as a transcript; the message names the line when there is one."""

    def __init__(self, message: str, *, line: int | None = None):
        self.line = line
        super().__init__(f"Line {line}: {message}" if line else message)


@dataclass
class Cue:
    start: float
    end: float
    text: str
    # Who says it, as a WebVTT voice tag (<v Name>) wrote it; matched to a participant's display name on upload.
    speaker: str = ""


@dataclass
class ParsedTranscript:
    """What a file holds: time-coded cues, or (for text without times) the words to line up with the recording."""

    kind: str
    cues: list[Cue] = field(default_factory=list)
    text: str = ""

    @property
    def timed(self) -> bool:
        return self.kind != TEXT

    @property
    def span(self) -> tuple[float, float] | None:
        return (self.cues[0].start, self.cues[-1].end) if self.cues else None

    @property
    def word_count(self) -> int:
        return len(self.text.split()) if not self.timed else sum(len(cue.text.split()) for cue in self.cues)


def clock(seconds: float) -> str:
    """00:01:05.000, the way the errors and the preview write a time."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _seconds(written: str) -> float | None:
    match = _CLOCK.fullmatch(written)
    if match is None or int(match["seconds"]) >= 60 or (match["hours"] and int(match["minutes"]) >= 60):
        return None
    fraction = match["fraction"] or "0"
    return (
        int(match["hours"] or 0) * 3600
        + int(match["minutes"]) * 60
        + int(match["seconds"])
        + int(fraction) / 10 ** len(fraction)
    )


def check_size(size: int) -> None:
    """Refuse a file larger than a transcript can be, before reading it."""
    if size > LARGEST_FILE_BYTES:
        raise TranscriptFileError(
            f"The file is {size / 1024 / 1024:.1f} MB; a transcript file may be at most "
            f"{LARGEST_FILE_BYTES // 1024 // 1024} MB. Is it the transcript, and not the recording?"
        )


def decoded_lines(data: bytes) -> list[str]:
    """The file's lines as text, refusing an empty or oversized file, one not in UTF-8, or one holding NUL bytes."""
    check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TranscriptFileError(
            "this is not UTF-8 text. Save the file again as UTF-8 (in most editors: Save as… → Encoding: UTF-8).",
            line=data[: error.start].count(b"\n") + 1,
        ) from error
    if "\x00" in text:
        raise TranscriptFileError(
            "this holds a NUL character, so it is not a text file (a Word document or UTF-16 text?). "
            "Save it as plain UTF-8 text.",
            line=text[: text.index("\x00")].count("\n") + 1,
        )
    if not text.strip():
        raise TranscriptFileError("The file is empty: there are no words in it.")
    return text.splitlines()


def parse_transcript_file(data: bytes, *, file_name: str = "", duration: float | None = None) -> ParsedTranscript:
    """Read a transcript file people made; `duration` (seconds) is the recording's, to refuse times past its end."""
    lines = decoded_lines(data)
    suffix = file_name.lower().rpartition(".")[2] if "." in file_name else ""
    first = next(line for line in lines if line.strip())
    if first.strip().startswith("WEBVTT"):
        return ParsedTranscript(kind=WEBVTT, cues=_caption_cues(lines, kind=WEBVTT, duration=duration))
    has_timings = any("-->" in line for line in lines)
    if suffix == "vtt":
        raise TranscriptFileError("a WebVTT file begins with the line WEBVTT.", line=lines.index(first) + 1)
    if has_timings:
        return ParsedTranscript(kind=SRT, cues=_caption_cues(lines, kind=SRT, duration=duration))
    if suffix == "srt":
        raise TranscriptFileError("This SRT file has no cue times (lines such as 00:00:01,000 --> 00:00:04,000).")
    if _LOOKS_TIMED.match(first):
        return ParsedTranscript(kind=TIMED_TEXT, cues=_timed_text_cues(lines, duration=duration))
    return ParsedTranscript(kind=TEXT, text="\n".join(line.rstrip() for line in lines).strip())


def _check_within_recording(*, start: float, end: float, line: int, duration: float | None) -> float:
    """The end, taken as the recording's end when it runs a moment past it; an error when a time is beyond it."""
    if duration is None:
        return end
    if start > duration:
        raise TranscriptFileError(
            f"the time {clock(start)} is after the recording ends ({clock(duration)}). "
            "Is this the transcript of this story's recording?",
            line=line,
        )
    if end > duration + END_GRACE_SECONDS:
        raise TranscriptFileError(
            f"the end time {clock(end)} is after the recording ends ({clock(duration)}).", line=line
        )
    return min(end, duration)


def _caption_cues(lines: list[str], *, kind: str, duration: float | None) -> list[Cue]:
    """Check every cue timing line, naming the first wrong one, then read the cues' text with webvtt-py."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    time_pattern = _VTT_TIME if kind == WEBVTT else _SRT_TIME
    example = "00:01:05.000" if kind == WEBVTT else "00:01:05,000"
    timings: list[tuple[float, float, int]] = []
    for number, line in enumerate(lines, start=1):
        if "-->" not in line:
            continue
        written_start, _, rest = line.partition("-->")
        written_start, written_end = written_start.strip(), (rest.split() or [""])[0]
        for written in (written_start, written_end):
            if not time_pattern.fullmatch(written) or _seconds(written) is None:
                raise TranscriptFileError(
                    f"not a timestamp: “{written}”. {kind} writes times as {example}.", line=number
                )
        start, end = _seconds(written_start), _seconds(written_end)
        if end < start:
            raise TranscriptFileError(f"the end time {clock(end)} comes before the start {clock(start)}.", line=number)
        if timings and start < timings[-1][0]:
            raise TranscriptFileError(
                f"this cue starts at {clock(start)}, before the cue above it (line {timings[-1][2]}, "
                f"{clock(timings[-1][0])}). Cues must be in the order they are said.",
                line=number,
            )
        if kind == SRT and not (number >= 2 and lines[number - 2].strip().isdigit()):
            raise TranscriptFileError("an SRT cue begins with its number on the line above its times.", line=number)
        _check_within_recording(start=start, end=end, line=number, duration=duration)
        timings.append((start, end, number))
    if not timings:
        raise TranscriptFileError(f"This {kind} file has no cues (lines such as {example} --> {example}).")

    # The library reads from the first cue's number on for SRT; blank lines before it would hide the whole file.
    body = lines if kind == WEBVTT else lines[next(i for i, line in enumerate(lines) if line.strip()) :]
    try:
        captions = webvtt.from_buffer(io.StringIO("\n".join(body)), format="vtt" if kind == WEBVTT else "srt").captions
    except (MalformedFileError, MalformedCaptionError) as error:
        raise TranscriptFileError(f"This file cannot be read as {kind}: {error}.") from error
    cues = []
    for caption in captions:
        text = " ".join(html.unescape(caption.text).split())
        start, end = caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000
        if text:
            end = min(end, duration) if duration else end
            speaker = " ".join(html.unescape(getattr(caption, "voice", None) or "").split())
            cues.append(Cue(start=start, end=end, text=text, speaker=speaker))
    if not cues:
        raise TranscriptFileError(f"This {kind} file's cues hold no words.")
    return cues


def _timed_text_cues(lines: list[str], *, duration: float | None) -> list[Cue]:
    """Lines that begin with a time start a cue, which lasts until the next time; other lines continue it."""
    starts: list[tuple[float, int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _TIMED_LINE.match(line) if _LOOKS_TIMED.match(line) else None
        if _LOOKS_TIMED.match(line):
            start = _seconds(match["clock"]) if match else None
            if start is None:
                written = line.strip().split()[0]
                raise TranscriptFileError(
                    f"not a timestamp: “{written}”. Begin a line with its time as [00:02:15], 00:02:15 or [2:15].",
                    line=number,
                )
            if starts and start < starts[-1][0]:
                raise TranscriptFileError(
                    f"the time {clock(start)} comes before the time above it ({clock(starts[-1][0])}, line "
                    f"{starts[-1][1]}). Times must go forward through the recording.",
                    line=number,
                )
            _check_within_recording(start=start, end=start, line=number, duration=duration)
            starts.append((start, number, [match["words"].strip()]))
        elif starts:
            starts[-1][2].append(line.strip())
        else:  # unreachable: the file is taken as timed only when its first line begins with a time
            raise TranscriptFileError("this line has no time before it.", line=number)
    cues = []
    for position, (start, _number, words) in enumerate(starts):
        text = " ".join(" ".join(words).split())
        if position + 1 < len(starts):
            end = starts[position + 1][0]
        elif duration is not None:
            end = max(duration, start)
        else:
            end = start + max(len(text.split()), 1) * SECONDS_PER_WORD
        if text:  # a time with no words after it still ends the line above
            cues.append(Cue(start=start, end=end, text=text))
    if not cues:
        raise TranscriptFileError("The file has times but no words after them.")
    return cues
