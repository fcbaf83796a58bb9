"""The public JSON API. Each app adds its router; everything here obeys the visibility rule."""

from ninja import NinjaAPI

from stories.api import collections_router, communities_router, themes_router
from stories.api import router as stories_router
from transcription.api import router as transcription_router

api = NinjaAPI(title="Story Archive API", version="1", urls_namespace="api")
api.add_router("/stories", stories_router)
api.add_router("/stories", transcription_router)
api.add_router("/search", "search.api.router")
api.add_router("/communities", communities_router)
api.add_router("/themes", themes_router)
api.add_router("/collections", collections_router)
