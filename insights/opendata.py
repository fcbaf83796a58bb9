"""The insights as open data: a CSV per table and a Frictionless Data Package describing them, suppressed alike."""

import csv
import io

from django.utils import timezone

from .tables import FEWER, HEADINGS, PLURALS, Insights, Table

LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
ALL = "all"


def _label_field(dimension: str) -> str:
    return f"{dimension}_name"


def table_rows(table: Table) -> list[list[str]]:
    """The table in long form, a header first: one line per figure, then its totals, named `all`."""

    def figures(cell) -> list[str]:
        return [cell.shown.replace(",", ""), "" if cell.hours is None else f"{cell.hours:.1f}"]

    if not table.crossed:
        lines = [[table.rows_are, _label_field(table.rows_are), "stories", "hours"]]
        lines += [[v.value, v.label, *figures(cell)] for v, cell in zip(table.rows, table.row_totals, strict=True)]
        lines.append([ALL, "All stories", *figures(table.total)])
        return lines
    rows_are, columns_are = table.rows_are, table.columns_are
    lines = [[rows_are, _label_field(rows_are), columns_are, _label_field(columns_are), "stories", "hours"]]
    every_column = f"All {PLURALS[columns_are]}"
    for row, cells, row_total in zip(table.rows, table.cells, table.row_totals, strict=True):
        lines += [
            [row.value, row.label, c.value, c.label, *figures(cell)]
            for c, cell in zip(table.columns, cells, strict=True)
        ]
        lines.append([row.value, row.label, ALL, every_column, *figures(row_total)])
    every_row = f"All {PLURALS[rows_are]}"
    lines += [
        [ALL, every_row, c.value, c.label, *figures(cell)]
        for c, cell in zip(table.columns, table.column_totals, strict=True)
    ]
    lines.append([ALL, every_row, ALL, every_column, *figures(table.total)])
    return lines


# A cell a spreadsheet would read as a formula when it begins with one of these (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text_in_a_spreadsheet(cell: str) -> str:
    """The cell, with a leading apostrophe when a spreadsheet would otherwise run it as a formula: names are typed by
    people, and `=HYPERLINK(...)` as a community's name must open as words, not as a link or a command."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def table_csv_text(table: Table) -> str:
    out = io.StringIO()
    rows = ([as_text_in_a_spreadsheet(cell) for cell in row] for row in table_rows(table))
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _schema(table: Table) -> dict:
    fields = []
    for dimension in (table.rows_are, table.columns_are):
        if dimension is None:
            continue
        heading = HEADINGS[dimension]
        fields += [
            {"name": dimension, "type": "string", "description": f"{heading}: its code, or `{ALL}` for a total."},
            {"name": _label_field(dimension), "type": "string", "description": f"{heading}, as a person reads it."},
        ]
    fields += [
        {
            "name": "stories",
            "type": "integer",
            "description": f"Public stories; “{FEWER}” where the figure is suppressed.",
            "constraints": {"minimum": 0},
        },
        {
            "name": "hours",
            "type": "number",
            "description": "Hours of recording, to a tenth; empty where the figure is suppressed.",
            "constraints": {"minimum": 0},
        },
    ]
    keys = [name for name in (table.rows_are, table.columns_are) if name]
    return {"fields": fields, "missingValues": ["", FEWER], "primaryKey": keys}


def describe_filters(query) -> str:
    parts = []
    if query.text:
        parts.append(f"matching “{query.text[:100]}”")
    for name, values in (
        ("theme", query.themes),
        ("generation", query.generations),
        ("community", query.communities),
        ("language", query.languages),
        ("kind", query.kinds),
    ):
        if values:
            parts.append(f"{name} {' or '.join(values)}")
    if query.intergenerational:
        parts.append("told across generations")
    if query.recorded_from:
        parts.append(f"recorded from {query.recorded_from.isoformat()}")
    if query.recorded_to:
        parts.append(f"recorded until {query.recorded_to.isoformat()}")
    return "; ".join(parts)


def datapackage(insights: Insights, paths: dict[str, str]) -> dict:
    """A Frictionless Data Package descriptor; `paths` gives each table's CSV path or URL by table name."""
    narrowed = describe_filters(insights.figures.query)
    return {
        "name": "story-archive-insights",
        "title": "Story Archive insights",
        "description": (
            "Counts of the archive's public stories and hours of recording by theme, generation, community, "
            "language, kind and quarter of the recording date"
            + (f", for stories {narrowed}" if narrowed else "")
            + f". A figure under 5 stories is given as “{FEWER}”, and where a total would let it be worked out a "
            "second figure is suppressed too. Stories with several themes or generations count under each. "
            "No names, birth years or story identifiers are included."
        ),
        "licenses": [LICENCE],
        "created": timezone.now().replace(microsecond=0).isoformat(),
        "keywords": ["oral history", "stories", "generations", "communities"],
        "resources": [
            {
                "name": table.name,
                "title": table.title,
                "path": paths[table.name],
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": _schema(table),
            }
            for table in insights.tables
        ],
    }
