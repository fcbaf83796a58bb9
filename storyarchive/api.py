"""The public JSON API. Each app adds its router; everything here obeys the visibility rule.

Every error is JSON of one shape, `{"detail": "..."}`, with `errors` (one problem per refused parameter) when a
parameter is out of bounds or names nothing; the addresses the routers do not know answer the same way (see
`unknown_address`). The documentation at /api/docs is served from the archive's own static files, so it works
offline and under the site's Content-Security-Policy.
"""

from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from ninja import NinjaAPI, Swagger
from ninja.errors import HttpError, ValidationError

from iiif.openapi import manifest_paths
from stories.api import collections_router, communities_router, dialogues_router, themes_router
from stories.api import router as stories_router
from transcription.api import router as transcription_router

# Swagger UI asks validator.swagger.io for a badge unless told not to: the docs page fetches nothing from elsewhere.
DOCS = Swagger(settings={"validatorUrl": None})
NOT_FOUND = "There is nothing at this address in the API: /api/docs lists every address it answers."


class StoryArchiveAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        # The IIIF manifests live at their own addresses (viewers expect them beside the story), not under /api/.
        schema["paths"].update(manifest_paths())
        return schema


api = StoryArchiveAPI(title="Story Archive API", version="1", urls_namespace="api", docs=DOCS)
api.add_router("/stories", stories_router)
api.add_router("/stories", transcription_router)
api.add_router("/search", "search.api.router")
api.add_router("/insights", "insights.api.router")
api.add_router("/communities", communities_router)
api.add_router("/themes", themes_router)
api.add_router("/collections", collections_router)
api.add_router("/dialogues", dialogues_router)


def _parameter(location: list) -> str:
    where = {"query": "The query parameter", "path": "The address part"}.get(str(location[0]), "The value")
    return f"{where} “{location[-1]}”" if len(location) > 1 else where


@api.exception_handler(ValidationError)
def refused_parameters(request, error: ValidationError):
    """422: `detail` says which parameters and why in one sentence each; `errors` keeps them one by one."""
    problems = [
        {"type": problem.get("type", "invalid"), "loc": list(problem.get("loc", [])), "msg": problem.get("msg", "")}
        for problem in error.errors
    ]
    detail = " ".join(f"{_parameter(problem['loc'])}: {problem['msg'].rstrip('.')}." for problem in problems)
    return api.create_response(request, {"detail": detail, "errors": problems}, status=422)


@api.exception_handler(HttpError)
def refused(request, error: HttpError):
    body = {"detail": str(error)}
    if getattr(error, "errors", None):
        body["errors"] = error.errors
    return api.create_response(request, body, status=error.status_code)


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    return api.create_response(request, {"detail": NOT_FOUND}, status=404)


def unknown_address(request, rest: str = ""):
    """Any address under /api/ that no router answers: one ending in a slash is sent to the same address without it
    when that one exists (/api/stories/ to /api/stories, its query kept); anything else is a JSON 404."""
    if request.path_info.endswith("/"):
        bare = request.path_info.rstrip("/")
        try:
            found = resolve(bare)
        except Resolver404:
            found = None
        if found is not None and found.namespace == api.urls_namespace:
            query = request.META.get("QUERY_STRING", "")
            target = f"{request.path.rstrip('/')}{f'?{query}' if query else ''}"
            return HttpResponsePermanentRedirect(target, preserve_request=True)
    return JsonResponse({"detail": NOT_FOUND}, status=404)
