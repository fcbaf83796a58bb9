"""What the insights count, as every search backend answers it: public stories and seconds of recording for each
value of a dimension and each pair of values, before any suppression (insights/ hides the small cells)."""

import datetime
from dataclasses import dataclass, field

from .query import StoryQuery

# The dimensions counted one by one, and the pairs counted together. "quarter" is the recording date's quarter.
DIMENSIONS = ("theme", "generation", "community", "language", "kind", "quarter")
CROSSED = (("theme", "generation"), ("theme", "community"), ("generation", "community"))
# The quarter of a story recorded on no known date.
NO_DATE = "no-date"


def quarter_of(day: datetime.date | None) -> str:
    """ "2025-Q3" for a date in July to September 2025; NO_DATE without a date."""
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}" if day else NO_DATE


@dataclass(frozen=True)
class Tally:
    stories: int = 0
    seconds: float = 0.0


@dataclass
class StoryFigures:
    """Counts over the public stories a query matches: every filter applies, and paging and order do not."""

    query: StoryQuery
    total: Tally
    intergenerational: Tally  # stories told by participants of two or more generations
    by: dict[str, dict[str, Tally]] = field(default_factory=dict)  # dimension -> value -> tally; no empty values
    crossed: dict[tuple[str, str], dict[tuple[str, str], Tally]] = field(default_factory=dict)


# What "In their own words" reads (insights/words.py): a story's own words, the transcript people read and the written
# story, never its title or summary. A filter matching more than this many stories of a generation has that many of
# them read (see stories_to_read), so the work per request has a ceiling however large the archive.
READ_PER_GENERATION = 100


@dataclass
class StoryTexts:
    """Which public stories' words to read for a query, to compare generations; the words come from
    `story_passages`."""

    query: StoryQuery
    stories: dict[str, int]  # generation -> every matched story it counts under, read or not
    read: dict[int, tuple[str, ...]]  # story id -> its generations' slugs: every match, or READ_PER_GENERATION of each
    # Changes whenever the index does, a story leaving it included; "" when the backend cannot say (then nothing
    # computed from these stories may be kept). The rule runs again on the stories read in `story_passages`.
    state: str = ""


def stories_to_read(ids, members, most: int = READ_PER_GENERATION):
    """Positions (ascending) of the stories to read: for each generation (a column of `members`, a bool matrix of
    stories x generations, one row per id in `ids`), all its stories, or the `most` of them that come first in one
    fixed shuffled order of every story id. A shuffle rather than a spread: it is a fair sample whatever the filter,
    and different filters mostly choose the same stories, whose counted words a process keeps."""
    import numpy as np

    ids = np.asarray(ids, dtype=np.int64)
    # Knuth's multiplicative hash: a fixed order that looks random and needs nothing stored.
    shuffled = (ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    chosen = np.zeros(len(ids), dtype=bool)
    for column in range(members.shape[1]):
        holding = np.flatnonzero(members[:, column])
        if len(holding) > most:
            order = np.lexsort((ids[holding], shuffled[holding]))
            holding = holding[order[:most]]
        chosen[holding] = True
    return np.flatnonzero(chosen)
