"""Insights counted in the database backend's in-memory columns: sums over arrays, never a loop over stories."""

import datetime

import numpy as np

from ..columns import MULTI_VALUED, Columns
from ..figures import CROSSED, NO_DATE, StoryFigures, Tally
from ..query import FACETS, StoryQuery

_EPOCH = datetime.date(1970, 1, 1).toordinal()


class _Dimension:
    """One dimension over the chosen rows: the (row, value code) pairs it holds, and the value behind each code."""

    def __init__(self, positions: np.ndarray, codes: np.ndarray, values: list[str], per_row: np.ndarray | None):
        self.positions = positions  # index into the chosen rows
        self.codes = codes
        self.values = values
        self.per_row = per_row  # single-valued: each chosen row's code (-1 for none); None when multi-valued


def _facet(table: Columns, facet: str, rows: np.ndarray) -> _Dimension:
    values = table.values[facet]
    if facet in MULTI_VALUED:
        positions, codes = np.nonzero(table.members[facet][rows])
        return _Dimension(positions, codes, values, None)
    per_row = table.codes[facet][rows]
    positions = np.flatnonzero(per_row >= 0)
    return _Dimension(positions, per_row[positions], values, per_row)


def _quarter(table: Columns, rows: np.ndarray) -> _Dimension:
    recorded = table.recorded[rows].astype(np.int64)
    known = recorded > 0
    # Months since January 1970, then quarters since then (floor division keeps dates before 1970 right).
    months = (recorded - _EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    quarters = np.where(known, months // 3, np.iinfo(np.int64).max)
    found, per_row = np.unique(quarters, return_inverse=True)
    values = [NO_DATE if q == np.iinfo(np.int64).max else f"{1970 + q // 4:04d}-Q{q % 4 + 1}" for q in found.tolist()]
    per_row = per_row.reshape(-1)
    return _Dimension(np.arange(len(rows)), per_row, values, per_row)


def _tallies(keys: np.ndarray, seconds: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    stories = np.bincount(keys, minlength=size)
    return stories, np.bincount(keys, weights=seconds, minlength=size)


def count_figures(table: Columns, rows: np.ndarray, query: StoryQuery) -> StoryFigures:
    """The figures over these rows of the columns."""
    seconds = table.durations[rows]
    dimensions = {facet: _facet(table, facet, rows) for facet in FACETS}
    dimensions["quarter"] = _quarter(table, rows)
    by = {}
    for name, dimension in dimensions.items():
        stories, spoken = _tallies(dimension.codes, seconds[dimension.positions], len(dimension.values))
        by[name] = {
            dimension.values[code]: Tally(int(stories[code]), float(spoken[code]))
            for code in np.flatnonzero(stories).tolist()
        }
    crossed = {}
    for row_name, column_name in CROSSED:
        first, second = dimensions[row_name], dimensions[column_name]
        width = len(second.values)
        if second.per_row is not None:
            other = second.per_row[first.positions]
            held = other >= 0
            keys = first.codes[held] * width + other[held]
            stories, spoken = _tallies(keys, seconds[first.positions[held]], len(first.values) * width)
            shape = (len(first.values), width)
            stories, spoken = stories.reshape(shape), spoken.reshape(shape)
        else:
            left = table.members[row_name][rows].astype(np.float64)
            right = table.members[column_name][rows].astype(np.float64)
            stories = np.rint(left.T @ right).astype(np.int64)
            spoken = (left * seconds[:, None]).T @ right
        crossed[(row_name, column_name)] = {
            (first.values[r], second.values[c]): Tally(int(stories[r, c]), float(spoken[r, c]))
            for r, c in zip(*np.nonzero(stories), strict=True)
        }
    intergenerational = table.generation_count[rows] >= 2
    return StoryFigures(
        query=query,
        total=Tally(len(rows), float(seconds.sum())),
        intergenerational=Tally(int(intergenerational.sum()), float(seconds[intergenerational].sum())),
        by=by,
        crossed=crossed,
    )
