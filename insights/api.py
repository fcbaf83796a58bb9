"""GET /api/insights: the figures of /insights/ as JSON, narrowed by the same filters as /api/search."""

from django.urls import reverse
from ninja import Field, Query, Router, Schema
from pydantic import create_model

from search.api import SEARCH_RESPONSES, SearchParams, search_unavailable, story_query
from search.backends import SearchUnavailable, get_search_backend

from .tables import FEWER, THRESHOLD, Cell, Insights, Table, insights_from
from .words import DISTINCTIVE_Z, OwnWords, own_words, search_url

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


class TermOut(Schema):
    text: str = Field(description="A word or two-word phrase, lower case without accents, as search reads it.")
    z: float = Field(description="Its weighted log-odds z-score against the rest; higher is more distinctive.")
    stories: int = Field(description=f"How many of the generation's stories read say it: {THRESHOLD} or more.")
    search: str = Field(description="/search/ for it, with these filters and this generation: its moments.")


class GenerationWordsOut(Schema):
    generation: str
    label: str
    suppressed: bool = Field(description=f"True when the filters match {FEWER} of its stories: no words then.")
    sampled: bool = Field(
        description="True when only `per_generation` of its stories, chosen at random (the same each time), were read."
    )
    words: list[TermOut]
    phrases: list[TermOut]
    withheld: str = Field(description="Why no words are given, when none are; empty otherwise.")


class OwnWordsOut(Schema):
    summary: str
    generations: list[GenerationWordsOut]
    per_generation: int = Field(description="At most this many stories of each generation are read.")
    method: str


METHOD = (
    "Each generation's words and two-word phrases against those of every other story the filters match: the "
    "weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008, “Fightin' "
    f"Words”), its z-score, most distinctive first, above {DISTINCTIVE_Z}. Read from the transcripts and written "
    "stories of public stories only; stop words, numbers and phrases holding a stop word are left out; a word "
    f"must be said in {THRESHOLD} or more of the generation's stories, and a generation with fewer than "
    f"{THRESHOLD} stories here gives none."
)


def own_words_json(request, found: OwnWords) -> dict:
    def terms(generation, listed):
        return [
            {
                "text": term.text,
                "z": term.z,
                "stories": term.stories,
                "search": request.build_absolute_uri(search_url(request.GET, generation.slug, term.text)),
            }
            for term in listed
        ]

    return {
        "summary": found.summary,
        "generations": [
            {
                "generation": g.slug,
                "label": g.label,
                "suppressed": g.suppressed,
                "sampled": g.sampled,
                "words": terms(g, g.words),
                "phrases": terms(g, g.phrases),
                "withheld": g.withheld,
            }
            for g in found.generations
        ],
        "per_generation": found.per_generation,
        "method": METHOD,
    }


@router.get(
    "/words",
    response={200: OwnWordsOut, **SEARCH_RESPONSES},
    url_name="insights_words",
    summary="In their own words: the words and phrases most distinctive of each generation",
)
def insights_words(request, params: Query[InsightsParams]):
    """The same filters as /api/insights. A filter value the archive does not have is a 400 that names it."""
    query = story_query(params)
    try:
        found = own_words(query)
    except SearchUnavailable:
        return search_unavailable()
    return own_words_json(request, found)
