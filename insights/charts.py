"""Bar charts drawn on the server as SVG geometry for the template: no script is needed to read them, and each goes
with its table and a sentence saying what it shows. Suppressed figures get no bar, only the words "fewer than 5"."""

from dataclasses import dataclass

from .tables import FEWER, Table

WIDTH = 480
LABEL_WIDTH = 170
BAR_HEIGHT = 22
GAP = 8
LABEL_CHARACTERS = 22


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str
    y: int
    width: float
    text_y: int
    value_x: float


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    summary: str
    height: int
    bars: list[Bar]
    label_width: int = LABEL_WIDTH
    width: int = WIDTH


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def summary_of(table: Table) -> str:
    """One sentence: how many stories, which value has the most, and how many figures are suppressed."""
    shown = [(v, cell) for v, cell in zip(table.rows, table.row_totals, strict=True) if not cell.suppressed]
    hidden = sum(cell.suppressed for cell in table.row_totals)
    noun = table.rows_are if table.rows_are != "intergenerational" else "group"
    if table.total.suppressed:
        return f"These filters match {FEWER} stories, so no figure is given."
    if not shown:
        return f"{table.total.shown} stories, spread so thinly that every {noun} has {FEWER}."
    top, cell = max(shown, key=lambda pair: pair[1].stories)
    sentence = f"Of {table.total.shown} stories, the most ({cell.shown}) are under {top.label}"
    if hidden:
        sentence += f"; {hidden} {'figure is' if hidden == 1 else 'figures are'} not given, to protect privacy"
    return sentence + "."


def bar_chart(table: Table) -> Chart:
    """A bar for each row total of the table (a one-way table's figures; a crossed table's first dimension)."""
    largest = max((cell.stories for cell in table.row_totals if not cell.suppressed), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 90
    bars = []
    for n, (value, cell) in enumerate(zip(table.rows, table.row_totals, strict=True)):
        y = GAP + n * (BAR_HEIGHT + GAP)
        width = 0.0 if cell.suppressed else max(room * cell.stories / largest, 2.0)
        bars.append(
            Bar(
                label=_short(value.label),
                shown=cell.shown,
                y=y,
                width=round(width, 1),
                text_y=y + BAR_HEIGHT - 6,
                value_x=round(LABEL_WIDTH + width + 6, 1),
            )
        )
    return Chart(
        name=table.name,
        title=table.title,
        summary=summary_of(table),
        height=GAP + len(bars) * (BAR_HEIGHT + GAP),
        bars=bars,
    )
