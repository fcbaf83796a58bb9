"""A small fixed-window limit on the share endpoints, kept in Django's cache."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600
# Requests per hour. Chunks of a resumable upload are counted separately: a large file sends many.
DEFAULT_LIMITS = {
    "address": 60,
    "invite": 120,
    "chunk": 3000,
    "manage": 60,
}


def client_address(request) -> str:
    # REMOTE_ADDR only: a forwarded header is the client's to forge unless a trusted proxy sets it.
    return request.META.get("REMOTE_ADDR", "")


def limit_for(scope: str) -> int:
    return getattr(settings, "STORY_SHARE_RATE_LIMITS", {}).get(scope, DEFAULT_LIMITS[scope])


def over_limit(*, scope: str, key: str) -> bool:
    """Count one request for (scope, key); True once the hour's allowance is spent."""
    window = int(time.time() // WINDOW_SECONDS)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"stories:share-throttle:{scope}:{digest}:{window}"
    cache.add(cache_key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, WINDOW_SECONDS)
        count = 1
    return count > limit_for(scope)
