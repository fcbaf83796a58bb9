"""GET /api/insights: the figures of /insights/ as JSON, narrowed by the same filters as /api/search."""

from django.urls import reverse
from ninja import Field, Query, Router, Schema
from pydantic import create_model

from search.api import SEARCH_RESPONSES, SearchParams, search_unavailable, story_query
from search.backends import SearchUnavailable, get_search_backend

from .tables import FEWER, THRESHOLD, Cell, Insights, Table, insights_from

router = Router(tags=["insights"])

FILTERS = (
    "q",
    "theme",
    "generation",
    "community",
    "language",
    "kind",
    "intergenerational",
    "recorded_from",
    "recorded_to",
)
# The search API's own filter parameters, field for field, without its order and pages.
InsightsParams = create_model(
    "InsightsParams",
    __base__=Schema,
    **{name: (SearchParams.model_fields[name].annotation, SearchParams.model_fields[name]) for name in FILTERS},
)
SUPPRESSION = (
    f"A figure under {THRESHOLD} stories is not given: its stories and hours are null, suppressed is true and shown "
    f"says “{FEWER}”. Where a row, column or table shows its total and only one figure in it would be suppressed, "
    "the smallest other one is suppressed too, so the first cannot be worked out. Only public stories count."
)


class CellOut(Schema):
    stories: int | None = Field(description=f"Public stories; null when suppressed ({FEWER}, or to protect one).")
    hours: float | None = Field(description="Hours of recording, to a tenth; null when suppressed.")
    suppressed: bool
    shown: str = Field(description=f"The figure as a person reads it: a number, or “{FEWER}”.")


class ValueOut(Schema):
    value: str
    label: str


class TableOut(Schema):
    name: str = Field(description="Also the name of its CSV download and of its resource in the data package.")
    title: str
    rows: str = Field(description="The dimension each row is a value of.")
    columns: str | None = Field(description="The dimension of the columns of a crossed table; null for one-way.")
    row_values: list[ValueOut]
    column_values: list[ValueOut]
    cells: list[list[CellOut]] = Field(description="Crossed tables: one list per row, one cell per column.")
    row_totals: list[CellOut] = Field(description="Each row's stories (a one-way table's figures).")
    column_totals: list[CellOut]
    total: CellOut


class InsightsOut(Schema):
    stories: CellOut = Field(description="Every public story the filters match.")
    intergenerational: CellOut = Field(description="Of them, those told across two or more generations.")
    intergenerational_share: float | None = Field(description="Their share, 0 to 1; null when either is suppressed.")
    tables: list[TableOut]
    suppression: str
    downloads: dict[str, str] = Field(description="The CSV of each table and the Frictionless Data Package.")


def cell_json(cell: Cell) -> dict:
    return {"stories": cell.count, "hours": cell.hours, "suppressed": cell.suppressed, "shown": cell.shown}


def table_json(table: Table) -> dict:
    return {
        "name": table.name,
        "title": table.title,
        "rows": table.rows_are,
        "columns": table.columns_are,
        "row_values": [{"value": v.value, "label": v.label} for v in table.rows],
        "column_values": [{"value": v.value, "label": v.label} for v in table.columns],
        "cells": [[cell_json(cell) for cell in row] for row in table.cells],
        "row_totals": [cell_json(cell) for cell in table.row_totals],
        "column_totals": [cell_json(cell) for cell in table.column_totals],
        "total": cell_json(table.total),
    }


def insights_json(request, insights: Insights) -> dict:
    query = request.GET.urlencode()
    suffix = f"?{query}" if query else ""
    downloads = {
        table.name: request.build_absolute_uri(reverse("insights:table_csv", args=[table.name]) + suffix)
        for table in insights.tables
    }
    downloads["datapackage"] = request.build_absolute_uri(reverse("insights:datapackage") + suffix)
    downloads["zip"] = request.build_absolute_uri(reverse("insights:datapackage_zip") + suffix)
    return {
        "stories": cell_json(insights.stories),
        "intergenerational": cell_json(insights.intergenerational),
        "intergenerational_share": insights.intergenerational_share,
        "tables": [table_json(table) for table in insights.tables],
        "suppression": SUPPRESSION,
        "downloads": downloads,
    }


@router.get(
    "",
    response={200: InsightsOut, **SEARCH_RESPONSES},
    url_name="insights",
    summary="Counts and hours of public stories by theme, generation, community, language, kind and quarter",
)
def insights(request, params: Query[InsightsParams]):
    """The same filters as /api/search. A filter value the archive does not have is a 400 that names it. Figures
    under 5 stories are suppressed (see `suppression` in the answer)."""
    query = story_query(params)
    try:
        figures = get_search_backend().insights(query)
    except SearchUnavailable:
        return search_unavailable()
    return insights_json(request, insights_from(figures))
