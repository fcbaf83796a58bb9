"""/insights/: the archive as a whole in charts and tables, and its open data downloads, over public stories only."""

import io
import json
import zipfile
from types import SimpleNamespace

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from search.backends import SearchUnavailable, get_search_backend
from search.query import FACETS, QueryError, StoryQuery
from search.views import FACET_HEADINGS, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, _active_filters, _put_dates_in_order

from .charts import bar_chart
from .opendata import datapackage, table_csv_text
from .tables import FEWER, HEADINGS, PLURALS, Insights, insights_from
from .words import own_words, search_url


def _insights_for(query: StoryQuery) -> Insights:
    return insights_from(get_search_backend().insights(query))


def _insights(request) -> Insights:
    """The figures for the filters in the address, read as the search page reads them."""
    _put_dates_in_order(request)
    return _insights_for(StoryQuery.from_params(request.GET, paged=False))


def _unavailable(request, template=None, status=503):
    if template:
        response = render(request, template, {"error": UNAVAILABLE_MESSAGE, "unavailable": True}, status=status)
    else:
        response = HttpResponse(UNAVAILABLE_MESSAGE, status=status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _filters(request, query: StoryQuery, dates_swapped: bool) -> dict:
    """The filter form and the active filters, with every value a filter may take as search counts them."""
    facets = get_search_backend().search(StoryQuery(page_size=1)).facets
    filters = SimpleNamespace(query=query, facets=facets)
    choices = [
        {
            "name": facet,
            "heading": FACET_HEADINGS[facet],
            "values": [(value, value.value in query.selected(facet)) for value in facets[facet]],
        }
        for facet in FACETS
        if facets[facet]
    ]
    return {
        "query": query,
        "q": query.text,
        "choices": choices,
        "active_filters": _active_filters(request, filters),
        "dates_swapped": dates_swapped,
    }


def _filtered_page(request, template: str, *, figures, context):
    """A page of figures for the filters in the address, read as the search page reads them, with the filter form:
    figures(query) reads them, context(found, suffix) lays them out (suffix carries the filters to its links)."""
    try:
        dates_swapped = _put_dates_in_order(request)
        query = StoryQuery.from_params(request.GET, paged=False)
        found = figures(query)
        filters = _filters(request, query, dates_swapped)
    except QueryError as error:
        return render(request, template, {"error": str(error)}, status=400)
    except SearchUnavailable:
        return _unavailable(request, template)
    suffix = f"?{request.GET.urlencode()}" if request.GET else ""
    return render(request, template, {**filters, **context(found, suffix)})


def _insights_context(insights: Insights, suffix: str) -> dict:
    tables = [
        {
            "table": table,
            "chart": bar_chart(table),
            "heading": HEADINGS[table.rows_are],
            "column_heading": HEADINGS.get(table.columns_are or "", ""),
            "every_column": f"All {PLURALS[table.columns_are]}" if table.crossed else "Stories",
            "column_totals": list(zip(table.columns, table.column_totals, strict=True)),
            "csv": reverse("insights:table_csv", args=[table.name]) + suffix,
            "rows": [
                {
                    "value": value,
                    "total": total,
                    "cells": list(zip(table.columns, table.cells[n], strict=True)) if table.crossed else [],
                }
                for n, (value, total) in enumerate(zip(table.rows, table.row_totals, strict=True))
            ],
        }
        for table in insights.tables
    ]
    return {
        "insights": insights,
        "share": insights.intergenerational_share,
        "tables": tables,
        "fewer": FEWER,
        "words_url": reverse("insights:words") + suffix,
        "datapackage_url": reverse("insights:datapackage") + suffix,
        "zip_url": reverse("insights:datapackage_zip") + suffix,
        "api_url": reverse("api:insights") + suffix,
    }


def insights_page(request):
    return _filtered_page(
        request,
        "insights/insights_page.html",
        figures=_insights_for,
        context=_insights_context,
    )


def words_page(request):
    """In their own words: each generation's most distinctive words, each a search that lands on its moments."""

    def context(found, suffix: str) -> dict:
        generations = [
            {
                "generation": generation,
                "words": [(term, search_url(request.GET, generation.slug, term.text)) for term in generation.words],
                "phrases": [(term, search_url(request.GET, generation.slug, term.text)) for term in generation.phrases],
            }
            for generation in found.generations
        ]
        return {
            "own_words": found,
            "generations": generations,
            "submit_label": "Show the words",
            "insights_url": reverse("insights:insights") + suffix,
            "api_url": reverse("api:insights_words") + suffix,
        }

    return _filtered_page(request, "insights/words_page.html", figures=own_words, context=context)


def _download(request, build):
    try:
        return build(_insights(request))
    except QueryError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    except SearchUnavailable:
        return _unavailable(request)


def table_csv(request, name: str):
    def build(insights):
        table = next((table for table in insights.tables if table.name == name), None)
        if table is None:
            raise Http404("There is no such table.")
        response = HttpResponse(table_csv_text(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
        return response

    return _download(request, build)


def datapackage_json(request):
    def build(insights):
        suffix = f"?{request.GET.urlencode()}" if request.GET else ""
        paths = {
            table.name: request.build_absolute_uri(reverse("insights:table_csv", args=[table.name]) + suffix)
            for table in insights.tables
        }
        return JsonResponse(datapackage(insights, paths), json_dumps_params={"indent": 2, "ensure_ascii": False})

    return _download(request, build)


def datapackage_zip(request):
    def build(insights):
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            paths = {table.name: f"{table.name}.csv" for table in insights.tables}
            descriptor = datapackage(insights, paths)
            bundle.writestr("datapackage.json", json.dumps(descriptor, indent=2, ensure_ascii=False))
            for table in insights.tables:
                bundle.writestr(paths[table.name], table_csv_text(table))
        response = HttpResponse(archive.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="story-archive-insights.zip"'
        return response

    return _download(request, build)
