"""Production settings plus Django's per-site cache: the page cache a site would otherwise pick, which the throughput
benchmark compares the archive's own against. Bench-only: it never forgets a page before it expires.
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
