"""The public JSON API. Each app adds its router; everything here obeys the visibility rule."""

from ninja import NinjaAPI

from iiif.openapi import manifest_paths
from stories.api import collections_router, communities_router, themes_router
from stories.api import router as stories_router
from transcription.api import router as transcription_router


class StoryArchiveAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        # The IIIF manifests live at their own addresses (viewers expect them beside the story), not under /api/.
        schema["paths"].update(manifest_paths())
        return schema


api = StoryArchiveAPI(title="Story Archive API", version="1", urls_namespace="api")
api.add_router("/stories", stories_router)
api.add_router("/stories", transcription_router)
api.add_router("/search", "search.api.router")
api.add_router("/communities", communities_router)
api.add_router("/themes", themes_router)
api.add_router("/collections", collections_router)
