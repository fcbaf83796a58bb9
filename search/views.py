"""The public /search/ page: a search box, facets with counts, removable filters, moments that start playback."""

import dataclasses
import datetime
from dataclasses import dataclass

from django.shortcuts import render

from stories.access_requests import on_request_matching
from stories.generations import BY_SLUG

from .backends import SearchUnavailable, get_search_backend
from .query import FACETS, QueryError, StoryQuery, StorySearchResults
from .signals import search_found_nothing

FACET_HEADINGS = {
    "theme": "Theme",
    "generation": "Generation",
    "community": "Community",
    "language": "Language",
    "kind": "Kind",
}
FACET_FIELDS = {
    "theme": "themes",
    "generation": "generations",
    "community": "communities",
    "language": "languages",
    "kind": "kinds",
}

# What a visitor reads, on the page and from the API, while the search backend cannot answer.
UNAVAILABLE_MESSAGE = "Search is unavailable just now. The stories are all still here: please try again in a minute."
RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True)
class FilterLink:
    label: str
    url: str
    count: int | None = None
    selected: bool = False


def search_page(request):
    dates_swapped = _put_dates_in_order(request)
    try:
        query = StoryQuery.from_params(request.GET)
    except QueryError as error:
        return render(
            request, "search/search_page.html", {"error": str(error), "q": request.GET.get("q", "")}, status=400
        )
    backend = get_search_backend()
    try:
        results = backend.search(query)
        drop_suggestions = _drop_suggestions(request, backend, results) if results.total == 0 else []
    except SearchUnavailable:
        response = render(
            request,
            "search/search_page.html",
            {"error": UNAVAILABLE_MESSAGE, "unavailable": True, "q": query.text},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if results.total == 0:
        search_found_nothing.send(sender=StoryQuery, text=query.text)
    active_filters = _active_filters(request, results)
    context = {
        # Stories on request are never among the results: matched by title and summary alone, where their
        # storytellers agreed, and listed apart with a link to ask for them.
        "on_request": on_request_matching(query.text) if query.page == 1 and not active_filters else [],
        "query": query,
        "q": query.text,
        "results": results,
        "facet_groups": _facet_groups(request, results),
        "active_filters": active_filters,
        "drop_suggestions": drop_suggestions,
        "dates_swapped": dates_swapped,
        "previous_url": _with(request, page=query.page - 1) if query.page > 1 else "",
        "next_url": _with(request, page=query.page + 1) if query.page < results.page_count else "",
        "sorts": [
            FilterLink(label, _with(request, sort=value, page=None), selected=query.sort == value)
            for value, label in (("relevance", "Best match"), ("newest", "Newest"), ("oldest", "Oldest"))
        ],
    }
    return render(request, "search/search_page.html", context)


def _put_dates_in_order(request) -> bool:
    """A range typed the wrong way round ("from 2024 until 2020") is read the right way round, and the page says so,
    rather than answering with an error that hides the filters."""
    params = request.GET
    try:
        start = datetime.date.fromisoformat(params.get("recorded_from") or "")
        end = datetime.date.fromisoformat(params.get("recorded_to") or "")
    except ValueError:
        return False
    if start <= end:
        return False
    ordered = params.copy()
    ordered["recorded_from"], ordered["recorded_to"] = end.isoformat(), start.isoformat()
    request.GET = ordered
    return True


def _with(request, *, add=None, remove=None, **replace) -> str:
    """This page's URL with one parameter value added or removed, or parameters replaced (None drops one)."""
    params = request.GET.copy()
    if add:
        params.appendlist(*add)
        params.pop("page", None)
    if remove:
        name, value = remove
        params.setlist(name, [v for v in params.getlist(name) if v != value])
        params.pop("page", None)
    for name, value in replace.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def _facet_groups(request, results: StorySearchResults):
    groups = []
    for facet in FACETS:
        links = [
            FilterLink(
                value.label,
                _with(request, remove=(facet, value.value))
                if value.selected
                else _with(request, add=(facet, value.value)),
                value.count,
                value.selected,
            )
            for value in results.facets[facet]
        ]
        if links:
            selected = sum(link.selected for link in links)
            groups.append({"name": facet, "heading": FACET_HEADINGS[facet], "links": links, "selected": selected})
    return groups


def _active_filters(request, results: StorySearchResults) -> list[FilterLink]:
    query = results.query
    active = []
    for facet in FACETS:
        labels = {value.value: value.label for value in results.facets[facet]}
        for value in query.selected(facet):
            label = labels.get(value) or (BY_SLUG[value].label if facet == "generation" and value in BY_SLUG else value)
            active.append(FilterLink(f"{FACET_HEADINGS[facet]}: {label}", _with(request, remove=(facet, value))))
    if query.intergenerational:
        active.append(FilterLink("Across generations", _with(request, intergenerational=None, page=None)))
    if query.recorded_from:
        active.append(FilterLink(f"Recorded from {query.recorded_from:%Y-%m-%d}", _with(request, recorded_from=None)))
    if query.recorded_to:
        active.append(FilterLink(f"Recorded until {query.recorded_to:%Y-%m-%d}", _with(request, recorded_to=None)))
    return active


def _drop_suggestions(request, backend, results: StorySearchResults) -> list[FilterLink]:
    """For a search with no results: each filter whose removal would find stories, and how many."""
    query = results.query
    labels = {(facet, v.value): v.label for facet in FACETS for v in results.facets[facet]}
    suggestions = []
    candidates = [
        (
            f"{FACET_HEADINGS[facet]}: {labels.get((facet, value), value)}",
            dataclasses.replace(query, **{FACET_FIELDS[facet]: tuple(v for v in query.selected(facet) if v != value)}),
            _with(request, remove=(facet, value)),
        )
        for facet in FACETS
        for value in query.selected(facet)
    ]
    if query.intergenerational:
        candidates.append(
            (
                "Across generations",
                dataclasses.replace(query, intergenerational=False),
                _with(request, intergenerational=None),
            )
        )
    if query.recorded_from or query.recorded_to:
        candidates.append(
            (
                "The recording dates",
                dataclasses.replace(query, recorded_from=None, recorded_to=None),
                _with(request, recorded_from=None, recorded_to=None),
            )
        )
    for label, wider, url in candidates:
        total = backend.search(dataclasses.replace(wider, page=1, page_size=1)).total
        if total:
            suggestions.append(FilterLink(label, url, total))
    return sorted(suggestions, key=lambda link: -link.count)
