"""Production settings plus Django's per-site cache: the page cache the pages benchmark compares against.

Bench-only: the project has no page cache setting yet, so this shows what one would buy.
"""

from storyarchive.settings.production import *  # noqa: F403
from storyarchive.settings.production import MIDDLEWARE

MIDDLEWARE = [
    "django.middleware.cache.UpdateCacheMiddleware",
    *MIDDLEWARE,
    "django.middleware.cache.FetchFromCacheMiddleware",
]
CACHE_MIDDLEWARE_SECONDS = 300
CACHE_MIDDLEWARE_KEY_PREFIX = "bench"
