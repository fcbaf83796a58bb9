"""Insights counted in the database backend's in-memory columns: sums over arrays and loops over a dimension's values
(a few dozen themes or communities), never a loop over stories."""

import datetime

import numpy as np

from ..columns import MULTI_VALUED, SINGLE_VALUED, Columns
from ..figures import CROSSED, NO_DATE, StoryFigures, Tally

_EPOCH = datetime.date(1970, 1, 1).toordinal()


def _quarters(table: Columns, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each row's quarter as a code (-1 without a recording date), and the quarter behind each code."""
    recorded = table.recorded[rows].astype(np.int64)
    known = recorded > 0
    codes = np.full(len(rows), -1, dtype=np.int64)
    if not known.any():
        return codes, []
    # Months since January 1970, then quarters since then (floor division keeps dates before 1970 right).
    months = (recorded[known] - _EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    quarters = months // 3
    first = int(quarters.min())
    codes[known] = quarters - first
    values = [f"{1970 + q // 4:04d}-Q{q % 4 + 1}" for q in range(first, int(quarters.max()) + 1)]
    return codes, values


def _tallies(stories: np.ndarray, seconds: np.ndarray, values: list[str]) -> dict[str, Tally]:
    return {values[code]: Tally(int(stories[code]), float(seconds[code])) for code in np.flatnonzero(stories).tolist()}


def _counted(codes: np.ndarray, seconds: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Stories and seconds under each code; rows without a value (-1) count under none."""
    held = codes >= 0
    return (
        np.bincount(codes[held], minlength=size),
        np.bincount(codes[held], weights=seconds[held], minlength=size),
    )


def count_figures(table: Columns, rows: np.ndarray, query) -> StoryFigures:
    """The figures over these rows of the columns."""
    seconds = table.durations[rows]
    members = {facet: table.members[facet][rows] for facet in MULTI_VALUED}
    # As numbers once, for the matrix products below.
    weights = {facet: matrix.astype(np.float64) for facet, matrix in members.items()}
    codes = {facet: table.codes[facet][rows] for facet in SINGLE_VALUED}
    values = {facet: table.values[facet] for facet in (*MULTI_VALUED, *SINGLE_VALUED)}
    codes["quarter"], values["quarter"] = _quarters(table, rows)

    by = {}
    for facet in MULTI_VALUED:
        by[facet] = _tallies(members[facet].sum(axis=0), seconds @ weights[facet], values[facet])
    for facet in (*SINGLE_VALUED, "quarter"):
        by[facet] = _tallies(*_counted(codes[facet], seconds, len(values[facet])), values[facet])
    undated = codes["quarter"] < 0
    if undated.any():
        by["quarter"][NO_DATE] = Tally(int(undated.sum()), float(seconds[undated].sum()))

    crossed = {}
    for row_facet, column_facet in CROSSED:
        row_values, column_values = values[row_facet], values[column_facet]
        if column_facet in MULTI_VALUED:
            stories = np.rint(weights[row_facet].T @ weights[column_facet]).astype(np.int64)
            spoken = weights[row_facet].T @ (weights[column_facet] * seconds[:, None])
        else:
            # One pass per row value (a theme, a generation): the column's codes among the rows holding it.
            stories = np.zeros((len(row_values), len(column_values)), dtype=np.int64)
            spoken = np.zeros((len(row_values), len(column_values)), dtype=np.float64)
            by_column = np.asfortranarray(members[row_facet])  # each value's rows side by side in memory
            for code in range(len(row_values)):
                holding = by_column[:, code]
                stories[code], spoken[code] = _counted(
                    codes[column_facet][holding], seconds[holding], len(column_values)
                )
        crossed[(row_facet, column_facet)] = {
            (row_values[r], column_values[c]): Tally(int(stories[r, c]), float(spoken[r, c]))
            for r, c in zip(*(axis.tolist() for axis in np.nonzero(stories)), strict=True)
        }

    intergenerational = table.generation_count[rows] >= 2
    return StoryFigures(
        query=query,
        total=Tally(len(rows), float(seconds.sum())),
        intergenerational=Tally(int(intergenerational.sum()), float(seconds[intergenerational].sum())),
        by=by,
        crossed=crossed,
    )
