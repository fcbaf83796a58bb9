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
    # Requests for access to a story on request, and openings of private links (the player asks for byte ranges).
    "access-request": 10,
    "access-link": 600,
}


def client_address(request) -> str:
    """Who is asking: REMOTE_ADDR; behind the proxies named in STORY_TRUSTED_PROXIES, the address the nearest of them
    saw, which it appended last to X-Forwarded-For. Whatever a client wrote into that header itself stays to the
    left and is never read, and a request that did not come through a trusted proxy is judged by REMOTE_ADDR alone."""
    address = request.META.get("REMOTE_ADDR", "")
    trusted = settings.STORY_TRUSTED_PROXIES
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    while address in trusted and forwarded:
        address = forwarded.pop()
    return address


def limit_for(scope: str) -> int:
    return getattr(settings, "STORY_SHARE_RATE_LIMITS", {}).get(scope, DEFAULT_LIMITS[scope])


def over_limit(*, scope: str, key: str) -> bool:
    """Count one request for (scope, key); True once the hour's allowance is spent."""
    window = int(time.time() // WINDOW_SECONDS)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return counted(f"stories:share-throttle:{scope}:{digest}:{window}", WINDOW_SECONDS) > limit_for(scope)


def counted(cache_key: str, seconds: int) -> int:
    """Count one more under this key in the shared cache, which forgets it after `seconds`; the count so far."""
    cache.add(cache_key, 0, seconds)
    try:
        return cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, seconds)
        return 1
