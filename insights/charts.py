"""Bar charts drawn on the server as SVG geometry for the template: no script is needed to read them, and each goes
with its table and a sentence saying what it shows. Suppressed figures get no bar, only the words "fewer than 5".

A one-way table is one bar per value; a crossed table is a group per row value (a theme, say) with a bar for each
column value (each generation) inside it, all on one scale, so "elders and youth on housing" can be compared."""

from dataclasses import dataclass

from .tables import FEWER, Cell, Table

WIDTH = 360
LABEL_WIDTH = 130
BAR_HEIGHT = 22
GAP = 8
HEADING_HEIGHT = 26
LABEL_CHARACTERS = 17
VALUE_ROOM = 80


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str
    y: int
    width: float
    text_y: int
    value_x: float


@dataclass(frozen=True)
class Heading:
    label: str
    y: int


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    summary: str
    height: int
    bars: list[Bar]
    headings: list[Heading]
    label_width: int = LABEL_WIDTH
    width: int = WIDTH


def _short(label: str, room: int = LABEL_CHARACTERS) -> str:
    return label if len(label) <= room else label[: room - 1] + "…"


def summary_of(table: Table) -> str:
    """One sentence: how many stories, which value has the most, and how many figures are not given."""
    shown = [(v, cell) for v, cell in zip(table.rows, table.row_totals, strict=True) if not cell.suppressed]
    hidden = sum(cell.suppressed for cell in table.row_totals)
    noun = table.rows_are if table.rows_are != "intergenerational" else "group"
    if table.total.suppressed:
        return f"These filters match {FEWER} stories, so no figure is given."
    if not shown:
        return (
            f"Of {table.total.shown} stories, no figure by {noun} is given: each is “{FEWER}”, or held back so that "
            "one that is cannot be worked out."
        )
    top, cell = max(shown, key=lambda pair: pair[1].stories)
    sentence = f"Of {table.total.shown} stories, the most ({cell.shown}) are under {top.label}"
    if hidden:
        sentence += f"; {hidden} {'figure is' if hidden == 1 else 'figures are'} not given, to protect privacy"
    return sentence + "."


def _bar(label: str, cell: Cell, y: int, largest: int) -> Bar:
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    width = 0.0 if cell.suppressed else max(room * cell.stories / largest, 2.0)
    return Bar(
        label=_short(label),
        shown=cell.shown,
        y=y,
        width=round(width, 1),
        text_y=y + BAR_HEIGHT - 6,
        value_x=round(LABEL_WIDTH + width + 6, 1),
    )


def bar_chart(table: Table) -> Chart:
    """A one-way table's figures as bars; a crossed table's cells as bars grouped under each row value."""
    groups = (
        [
            (value.label, list(zip(table.columns, cells, strict=True)))
            for value, cells in zip(table.rows, table.cells, strict=True)
        ]
        if table.crossed
        else [(None, list(zip(table.rows, table.row_totals, strict=True)))]
    )
    largest = max((cell.stories for _, pairs in groups for _, cell in pairs if not cell.suppressed), default=0) or 1
    bars, headings, y = [], [], GAP
    for heading, pairs in groups:
        if heading is not None:
            headings.append(Heading(_short(heading, 40), y + HEADING_HEIGHT - 8))
            y += HEADING_HEIGHT
        for value, cell in pairs:
            bars.append(_bar(value.label, cell, y, largest))
            y += BAR_HEIGHT + GAP
    return Chart(name=table.name, title=table.title, summary=summary_of(table), height=y, bars=bars, headings=headings)
