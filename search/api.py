"""GET /api/search and /api/search/suggest: public stories only, with moments and facet counts."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError as InvalidValue
from django.http import JsonResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from stories.api import ERROR_RESPONSES, ErrorOut, GenerationOut, NamedRef, UnknownValues
from stories.generations import BY_SLUG as GENERATIONS_BY_SLUG
from stories.models import Community, StoryKind, Theme
from stories.validators import validate_language_code

from .backends import SearchUnavailable, get_search_backend
from .query import DEFAULT_PAGE_SIZE, FACETS, MAX_PAGE, MAX_PAGE_SIZE, QueryError, StoryQuery, StorySearchResults
from .signals import search_found_nothing
from .views import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE

router = Router(tags=["search"])
# Both operations may answer 503 with a Retry-After while the search backend cannot be reached.
SEARCH_RESPONSES = {**ERROR_RESPONSES, 503: ErrorOut}


def search_unavailable() -> JsonResponse:
    response = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class MomentOut(Schema):
    start: float
    end: float
    text: str
    highlighted: str


class SearchHitOut(Schema):
    id: int
    title: str
    url: str
    summary: str
    snippet: str
    score: float
    kind: str
    language: str
    community: NamedRef | None
    themes: list[NamedRef]
    content_notes: list[NamedRef]
    generations: list[GenerationOut]
    moments: list[MomentOut]


class FacetValueOut(Schema):
    value: str
    label: str
    count: int


class FacetsOut(Schema):
    theme: list[FacetValueOut]
    generation: list[FacetValueOut]
    community: list[FacetValueOut]
    language: list[FacetValueOut]
    kind: list[FacetValueOut]


class SearchOut(Schema):
    count: int
    results: list[SearchHitOut]
    facets: FacetsOut


class SuggestOut(Schema):
    query: str
    suggestions: list[str]


def results_as_json(request, results: StorySearchResults) -> dict:
    hits = []
    for hit in results.hits:
        story = hit.story
        hits.append(
            {
                "id": story.pk,
                "title": story.title,
                "url": request.build_absolute_uri(story.url),
                "summary": story.summary,
                "snippet": str(hit.snippet),
                "score": round(hit.score, 6),
                "kind": story.kind,
                "language": story.language,
                "community": {"slug": story.community.slug, "name": story.community.name} if story.community else None,
                "themes": [{"slug": theme.slug, "name": theme.name} for theme in story.themes],
                "content_notes": [{"slug": note.slug, "name": note.name} for note in story.content_notes],
                "generations": [{"slug": g.slug, "label": g.label} for g in story.generations],
                "moments": [
                    {"start": float(m.start), "end": float(m.end), "text": m.text, "highlighted": str(m.highlighted)}
                    for m in hit.moments
                ],
            }
        )
    facets = {
        facet: [{"value": v.value, "label": v.label, "count": v.count} for v in results.facets[facet]]
        for facet in FACETS
    }
    return {"count": results.total, "results": hits, "facets": facets}


class SearchParams(Schema):
    q: str = ""
    theme: list[str] = Field([], description="A theme slug; repeat for any of several.")
    generation: list[str] = Field([], description="A generation slug (boomers, gen-z, ...); repeatable.")
    community: list[str] = Field([], description="A community slug; repeatable.")
    language: list[str] = Field([], description="A language code such as en or es; repeatable.")
    kind: list[str] = Field([], description="audio, video or text; repeatable.")
    intergenerational: bool = Field(False, description="Only stories with participants from two or more generations.")
    recorded_from: datetime.date | None = Field(None, description="Recorded on or after this date (YYYY-MM-DD).")
    recorded_to: datetime.date | None = Field(None, description="Recorded on or before this date (YYYY-MM-DD).")
    sort: Literal["relevance", "newest", "oldest"] = "relevance"
    # Bounds stated here and kept by StoryQuery, which answers the search page and this API with the same message.
    page: int = Field(
        1, description="Which page of results, from 1.", json_schema_extra={"minimum": 1, "maximum": MAX_PAGE}
    )
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, description="Hits a page.", json_schema_extra={"minimum": 1, "maximum": MAX_PAGE_SIZE}
    )


def unknown_filter_values(params: SearchParams) -> dict[str, list[str]]:
    """The filter values that name nothing the archive has: no such theme, community, generation or kind, or no
    such language code. A known value that no public story has is not unknown: it finds nothing."""
    themes = set(Theme.objects.filter(slug__in=params.theme).values_list("slug", flat=True))
    communities = set(Community.objects.filter(slug__in=params.community).values_list("slug", flat=True))
    unknown = {
        "theme": [value for value in params.theme if value not in themes],
        "community": [value for value in params.community if value not in communities],
        "generation": [value for value in params.generation if value not in GENERATIONS_BY_SLUG],
        "kind": [value for value in params.kind if value not in StoryKind.values],
        "language": [],
    }
    for code in params.language:
        try:
            validate_language_code(code)
        except InvalidValue:
            unknown["language"].append(code)
    return {name: list(dict.fromkeys(values)) for name, values in unknown.items() if values}


def story_query(params, **paging) -> StoryQuery:
    """The search's query object from the API's filter parameters (and, for a list of hits, its paging): a filter
    value the archive does not have, or filters that cannot go together, is a 400 that says which."""
    unknown = unknown_filter_values(params)
    if unknown:
        raise UnknownValues(unknown, hint="/api/themes and /api/communities list their slugs.")
    try:
        return StoryQuery(
            text=params.q,
            themes=tuple(params.theme),
            generations=tuple(params.generation),
            communities=tuple(params.community),
            languages=tuple(params.language),
            kinds=tuple(params.kind),
            intergenerational=params.intergenerational,
            recorded_from=params.recorded_from,
            recorded_to=params.recorded_to,
            **paging,
        )
    except QueryError as error:
        raise HttpError(400, str(error)) from None


@router.get(
    "",
    response={200: SearchOut, **SEARCH_RESPONSES},
    summary="Search public stories: hits with time-coded moments, and facet counts",
)
def search_stories(request, params: Query[SearchParams]):
    """A filter value the archive does not have (a theme, community, generation, kind or language code) is a 400
    that names it, with one entry in `errors` for each."""
    query = story_query(params, sort=params.sort, page=params.page, page_size=params.page_size)
    try:
        results = get_search_backend().search(query)
    except SearchUnavailable:
        return search_unavailable()
    if results.total == 0:
        search_found_nothing.send(sender=StoryQuery, text=query.text)
    return results_as_json(request, results)


@router.get(
    "/suggest",
    response={200: SuggestOut, **SEARCH_RESPONSES},
    url_name="search_suggest",
    summary="Words in public stories that start with what was typed",
)
def suggest(request, q: str = ""):
    try:
        return {"query": q[:100], "suggestions": get_search_backend().suggest(q)}
    except SearchUnavailable:
        return search_unavailable()
