"""The insights as tables a person may read and download: labelled, with totals, and small cells suppressed.

Privacy: a figure under THRESHOLD stories is never given, only "fewer than 5" (its hours too). Where a row, a column
or a table shows its total and exactly one figure in it is suppressed, the smallest other figure there is suppressed
as well (complementary suppression), so the hidden one cannot be worked out by subtraction; this repeats until no
line has a lone suppressed figure. Nothing here holds a story id, a name or a birth year: only counts and hours.
"""

from dataclasses import dataclass, field

from search.backends.hits import facet_labels
from search.figures import CROSSED, NO_DATE, StoryFigures, Tally
from stories.generations import BY_SLUG as GENERATIONS_BY_SLUG
from stories.generations import GENERATIONS, NOT_SHARED

THRESHOLD = 5
FEWER = "fewer than 5"
HEADINGS = {
    "theme": "Theme",
    "generation": "Generation",
    "community": "Community",
    "language": "Language",
    "kind": "Kind",
    "quarter": "Quarter recorded",
    "intergenerational": "Told across generations",
}
PLURALS = {
    "theme": "themes",
    "generation": "generations",
    "community": "communities",
    "language": "languages",
    "kind": "kinds",
    "quarter": "quarters",
    "intergenerational": "stories",
}
ONE_WAY = ("language", "kind", "quarter", "intergenerational")
ACROSS, WITHIN = "across-generations", "one-generation"
GENERATION_ORDER = {g.slug: n for n, g in enumerate((*GENERATIONS, NOT_SHARED))}


@dataclass
class Cell:
    stories: int
    seconds: float
    suppressed: bool = False

    @property
    def shown(self) -> str:
        return FEWER if self.suppressed else f"{self.stories:,}"

    @property
    def count(self) -> int | None:
        return None if self.suppressed else self.stories

    @property
    def hours(self) -> float | None:
        return None if self.suppressed else round(self.seconds / 3600, 1)


@dataclass(frozen=True)
class Value:
    value: str
    label: str


@dataclass
class Table:
    """One-way (rows only: `row_totals` are its figures) or crossed (rows x columns, with both totals)."""

    name: str
    title: str
    rows_are: str
    columns_are: str | None
    rows: list[Value]
    columns: list[Value] = field(default_factory=list)
    cells: list[list[Cell]] = field(default_factory=list)
    row_totals: list[Cell] = field(default_factory=list)
    column_totals: list[Cell] = field(default_factory=list)
    total: Cell = field(default_factory=lambda: Cell(0, 0.0))

    @property
    def crossed(self) -> bool:
        return self.columns_are is not None

    def lines(self) -> list[tuple[list[Cell], Cell]]:
        """Every group of figures that adds up to (or is bounded by) a figure shown beside it."""
        lines = [(self.row_totals, self.total)]
        if self.crossed:
            lines.append((self.column_totals, self.total))
            lines += [(row, total) for row, total in zip(self.cells, self.row_totals, strict=True)]
            lines += [([row[c] for row in self.cells], total) for c, total in enumerate(self.column_totals)]
        return lines

    def every_cell(self) -> list[Cell]:
        return [self.total, *self.row_totals, *self.column_totals, *(cell for row in self.cells for cell in row)]


@dataclass
class Insights:
    figures: StoryFigures
    stories: Cell
    intergenerational: Cell
    tables: list[Table]

    @property
    def intergenerational_share(self) -> float | None:
        """The share of stories told across generations, only where neither part of it is suppressed."""
        if self.stories.suppressed or self.intergenerational.suppressed or not self.stories.stories:
            return None
        within = self.table("intergenerational").row_totals[-1]
        if within.suppressed:
            return None
        return round(self.intergenerational.stories / self.stories.stories, 3)

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)


def suppress(table: Table) -> Table:
    """Primary suppression of every figure under THRESHOLD stories, then complementary suppression."""
    for cell in table.every_cell():
        cell.suppressed = cell.stories < THRESHOLD
    changed = True
    while changed:
        changed = False
        for members, total in table.lines():
            if total.suppressed or len(members) < 2:
                continue
            hidden = [cell for cell in members if cell.suppressed]
            if len(hidden) == 1:
                shown = [cell for cell in members if not cell.suppressed]
                min(shown, key=lambda cell: cell.stories).suppressed = True
                changed = True
    return table


def _cell(tally: Tally | None) -> Cell:
    return Cell(tally.stories, tally.seconds) if tally else Cell(0, 0.0)


def _labels(dimension: str, values) -> dict[str, str]:
    if dimension == "quarter":
        return {v: "Date not recorded" if v == NO_DATE else v.replace("-", " ") for v in values}
    if dimension == "generation":
        return {v: GENERATIONS_BY_SLUG[v].label if v in GENERATIONS_BY_SLUG else v for v in values}
    return facet_labels(dimension, list(values))


def _ordered(dimension: str, counted: dict[str, Tally]) -> list[Value]:
    labels = _labels(dimension, counted)
    values = [Value(v, labels.get(v, v)) for v in counted]
    if dimension == "generation":
        return sorted(values, key=lambda v: (GENERATION_ORDER.get(v.value, 99), v.label))
    if dimension == "quarter":
        return sorted(values, key=lambda v: (v.value == NO_DATE, v.value))
    if dimension in ("language", "kind"):
        return sorted(values, key=lambda v: (-counted[v.value].stories, v.label.lower()))
    return sorted(values, key=lambda v: v.label.lower())


def insights_from(figures: StoryFigures) -> Insights:
    """The figures a backend counted, as suppressed tables."""
    tables = []
    for rows_are, columns_are in CROSSED:
        rows, columns = _ordered(rows_are, figures.by[rows_are]), _ordered(columns_are, figures.by[columns_are])
        pairs = figures.crossed[(rows_are, columns_are)]
        tables.append(
            suppress(
                Table(
                    name=f"{rows_are}-by-{columns_are}",
                    title=f"Stories by {rows_are} and {columns_are}",
                    rows_are=rows_are,
                    columns_are=columns_are,
                    rows=rows,
                    columns=columns,
                    cells=[[_cell(pairs.get((r.value, c.value))) for c in columns] for r in rows],
                    row_totals=[_cell(figures.by[rows_are][r.value]) for r in rows],
                    column_totals=[_cell(figures.by[columns_are][c.value]) for c in columns],
                    total=_cell(figures.total),
                )
            )
        )
    for dimension in ONE_WAY[:3]:
        rows = _ordered(dimension, figures.by[dimension])
        tables.append(
            suppress(
                Table(
                    name=dimension,
                    title=f"Stories by {HEADINGS[dimension].lower()}",
                    rows_are=dimension,
                    columns_are=None,
                    rows=rows,
                    row_totals=[_cell(figures.by[dimension][r.value]) for r in rows],
                    total=_cell(figures.total),
                )
            )
        )
    across, total = figures.intergenerational, figures.total
    mixed = suppress(
        Table(
            name="intergenerational",
            title="Stories told across generations",
            rows_are="intergenerational",
            columns_are=None,
            rows=[
                Value(ACROSS, "Across two or more generations"),
                Value(WITHIN, "Within one generation, or generations not shared"),
            ],
            row_totals=[_cell(across), Cell(total.stories - across.stories, total.seconds - across.seconds)],
            total=_cell(total),
        )
    )
    tables.append(mixed)
    return Insights(figures=figures, stories=mixed.total, intergenerational=mixed.row_totals[0], tables=tables)
