"""Line up words people wrote with the words the speech recogniser heard, so people's text gets the recording's times.

The people's words are matched to the recogniser's in order (difflib's longest matching blocks over folded words).
A matched word takes the time it was heard at; a stretch written differently shares the time of what was heard in
its place; words the recogniser missed take times spread between their matched neighbours. The text is then cut
into segments at sentence ends, line breaks and pauses, as a transcript's segments are.
"""

import difflib
import itertools
import re
import unicodedata
from dataclasses import dataclass

from .engine import SpokenSegment, Word

# A pause this long between two words ends a segment, as a speaker's breath does.
PAUSE_SECONDS = 1.0
# A segment is a moment search lands on: a long sentence is cut at a comma after this many words, or at the most.
SOFT_LONGEST_WORDS = 25
LONGEST_WORDS = 40
# Words written before the first word heard (or after the last) are given this long each.
SECONDS_PER_WORD = 0.4
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–][\"'”’)\]]*$")


class NothingHeardInCommon(ValueError):
    """None of the people's words were heard in the recording: the text is probably not this recording's."""


@dataclass
class WrittenWord:
    text: str
    ends_line: bool
    start: float | None = None
    end: float | None = None
    probability: float | None = None


def fold(word: str) -> str:
    """Lower case, no accents, letters and digits only: "Grandma's," and "grandmas" compare equal."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def written_words(text: str) -> list[WrittenWord]:
    written = []
    for line in text.splitlines():
        tokens = line.split()
        for position, token in enumerate(tokens):
            written.append(WrittenWord(text=token, ends_line=position == len(tokens) - 1))
    return written


def align(text: str, heard: list[Word], *, duration: float | None) -> list[SpokenSegment]:
    """People's text as time-coded segments, timed by the words the recogniser heard in the same recording."""
    written = [word for word in written_words(text) if fold(word.text)] or written_words(text)
    heard = [word for word in heard if fold(word.word)]
    matcher = difflib.SequenceMatcher(
        None, [fold(w.text) for w in written], [fold(w.word) for w in heard], autojunk=False
    )
    matched = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for w, h in zip(written[i1:i2], heard[j1:j2], strict=True):
                w.start, w.end, w.probability = h.start, h.end, h.probability
            matched += i2 - i1
        elif tag == "replace":
            _spread(written[i1:i2], heard[j1].start, heard[j2 - 1].end)
    if not matched:
        raise NothingHeardInCommon(
            "The speech recogniser heard none of these words in the recording. Is this the transcript of this "
            "story's recording, and in its language?"
        )
    _fill_gaps(written, duration=duration)
    return _segments(written)


def _spread(words: list[WrittenWord], start: float, end: float) -> None:
    """Share a stretch of time between words, each by its length in letters."""
    lengths = [max(len(fold(w.text)), 1) for w in words]
    total, done = sum(lengths), 0
    for word, length in zip(words, lengths, strict=True):
        word.start = start + (end - start) * done / total
        done += length
        word.end = start + (end - start) * done / total


def _fill_gaps(words: list[WrittenWord], *, duration: float | None) -> None:
    """Give the words the recogniser missed times between the words around them that were heard."""
    position = 0
    while position < len(words):
        if words[position].start is not None:
            position += 1
            continue
        run_end = position
        while run_end < len(words) and words[run_end].start is None:
            run_end += 1
        run = words[position:run_end]
        before = words[position - 1].end if position else None
        after = words[run_end].start if run_end < len(words) else None
        if before is None:
            before = max(0.0, after - len(run) * SECONDS_PER_WORD)
        if after is None:
            after = before + len(run) * SECONDS_PER_WORD
            if duration is not None:
                after = max(min(after, duration), before)
        _spread(run, before, max(after, before))
        position = run_end
    # Matching keeps the heard order, and spreading stays within its neighbours, so times only go forward.
    for earlier, later in itertools.pairwise(words):
        later.start = max(later.start, earlier.start)
        later.end = max(later.end, later.start)


def _segments(words: list[WrittenWord]) -> list[SpokenSegment]:
    segments, current = [], []

    def close():
        if current:
            segments.append(
                SpokenSegment(
                    start=round(current[0].start, 3),
                    end=round(max(w.end for w in current), 3),
                    text=" ".join(w.text for w in current),
                    words=[
                        Word(start=round(w.start, 3), end=round(w.end, 3), word=w.text, probability=w.probability)
                        for w in current
                    ],
                )
            )
            current.clear()

    for word in words:
        if len(current) > 2 and word.start - current[-1].end >= PAUSE_SECONDS:
            close()
        current.append(word)
        if (
            _SENTENCE_END.search(word.text)
            or word.ends_line
            or len(current) >= LONGEST_WORDS
            or (len(current) >= SOFT_LONGEST_WORDS and _CLAUSE_END.search(word.text))
        ):
            close()
    close()
    return segments
