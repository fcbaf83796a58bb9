"""Generations are derived from a birth year; nobody types one in."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, Value
from django.db.models.functions import Coalesce, ExtractYear

ADULT_AGE = 18


@dataclass(frozen=True)
class Generation:
    slug: str
    label: str
    first_year: int | None
    last_year: int | None

    def contains(self, birth_year: int) -> bool:
        after_start = self.first_year is None or birth_year >= self.first_year
        before_end = self.last_year is None or birth_year <= self.last_year
        return after_start and before_end


GENERATIONS = (
    Generation("silent", "Silent Generation", None, 1945),
    Generation("boomers", "Baby Boomers", 1946, 1964),
    Generation("gen-x", "Gen X", 1965, 1980),
    Generation("millennials", "Millennials", 1981, 1996),
    Generation("gen-z", "Gen Z", 1997, 2012),
    Generation("gen-alpha", "Gen Alpha", 2013, None),
)
NOT_SHARED = Generation("not-shared", "Not shared", None, None)
BY_SLUG = {g.slug: g for g in (*GENERATIONS, NOT_SHARED)}


def generation_for(birth_year: int | None) -> Generation:
    if birth_year is None:
        return NOT_SHARED
    return next(g for g in GENERATIONS if g.contains(birth_year))


def birth_years_for(slug: str) -> tuple[int | None, int | None] | None:
    """The inclusive birth-year range of a generation slug, or None for an unknown slug."""
    generation = BY_SLUG.get(slug)
    if generation is None:
        return None
    return generation.first_year, generation.last_year


def earliest_minor_birth_year(recorded_year):
    """The earliest birth year of someone who may have been a minor in recorded_year: an int, or a database expression
    for the visibility rule's SQL.

    Without a month we cannot tell a 17-year-old from an 18-year-old born the same year, so we take the careful side:
    anyone who may have been 18 or younger needs a guardian.
    """
    return recorded_year - ADULT_AGE


def could_be_minor(birth_year: int | None, recorded_year: int) -> bool:
    """True when the birth year alone cannot rule out being under 18 in the recording year; False without one."""
    return birth_year is not None and birth_year >= earliest_minor_birth_year(recorded_year)


def could_be_minor_condition(*, birth_year: str, recorded_on: str, today: datetime.date) -> Q:
    """could_be_minor as a database condition on two fields; a story with no recorded date counts as recorded today."""
    recorded_year = Coalesce(ExtractYear(recorded_on), Value(today.year))
    return Q(**{f"{birth_year}__gte": earliest_minor_birth_year(recorded_year)})


def generations_of(birth_years: Iterable[int | None]) -> list[Generation]:
    """The generations of a story's participants, in the order the participants are listed, each once."""
    found = {}
    for birth_year in birth_years:
        generation = generation_for(birth_year)
        found.setdefault(generation.slug, generation)
    return list(found.values())
