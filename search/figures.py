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
