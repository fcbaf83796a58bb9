"""The live Elasticsearch the search tests run against: ELASTICSEARCH_URL names a node (CI starts one with
`scripts/services elasticsearch`); without it, the tests that need one are skipped and say why."""

import os
from contextlib import contextmanager

import pytest

LIVE_CLUSTER = os.environ.get("ELASTICSEARCH_URL", "")
live = pytest.mark.skipif(not LIVE_CLUSTER, reason="needs a live Elasticsearch 9 cluster: set ELASTICSEARCH_URL")
# The Elasticsearch half of a test run on both backends: `make test-elasticsearch` selects it with -m elasticsearch.
BOTH_BACKENDS = ["database", pytest.param("elasticsearch", marks=[pytest.mark.elasticsearch, live])]


@contextmanager
def search_backend(which: str, settings, name: str):
    """The database's story search (ELASTICSEARCH_URL empty), or the live cluster's as `live_search_backend` gives it."""
    if which == "database":
        settings.ELASTICSEARCH_URL = ""
        yield None
        return
    with live_search_backend(settings, name) as backend:
        yield backend


@contextmanager
def live_search_backend(settings, name: str):
    """The story search on the live cluster, in indices of this test process's own, all deleted afterwards."""
    from search.backends import _backend_for, get_search_backend

    settings.ELASTICSEARCH_URL = LIVE_CLUSTER
    settings.ELASTICSEARCH_INDEX_PREFIX = f"storyarchive-test-{os.getpid()}-{name}"
    _backend_for.cache_clear()
    backend = get_search_backend()
    try:
        yield backend
    finally:
        made = list(backend.client.indices.get(index=f"{backend.alias}-*"))
        if made:
            backend.client.indices.delete(index=",".join(made))
        _backend_for.cache_clear()
