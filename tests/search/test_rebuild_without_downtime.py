"""`search_index rebuild` on a live Elasticsearch while visitors search: no search fails or comes back short, and the
old index is gone afterwards. Needs a node at ELASTICSEARCH_URL (`scripts/services elasticsearch`)."""

import threading

import pytest
from django.core.management import call_command

from search.backends.elasticsearch import search_body
from search.query import StoryQuery
from stories.factories import public_story
from tests.live_cluster import live, live_search_backend

pytestmark = [pytest.mark.elasticsearch, live]

STORIES = 36
REBUILDS = 3
# The loop's bound, whatever happens: the searches stop when the rebuilds are done or after this many.
MAX_SEARCHES = 5000


class SearchLoop(threading.Thread):
    """Sends the backend's own search request for `query` to the alias, over and over, as visitors would, and keeps
    every answer's count and every failure. Reads Elasticsearch only, so it needs no database connection."""

    def __init__(self, backend, query: StoryQuery, *, max_searches: int, pause: float = 0.0):
        super().__init__(daemon=True)
        self.pause = pause
        self.backend = backend
        self.body = search_body(query, backend.alias).to_dict()
        self.max_searches = max_searches
        self.stop = threading.Event()
        self.totals: list[int] = []
        self.failures: list[str] = []

    def run(self):
        while not self.stop.is_set() and len(self.totals) + len(self.failures) < self.max_searches:
            try:
                response = self.backend.client.search(index=self.backend.alias, body=self.body)
                self.totals.append(response["hits"]["total"]["value"])
            except Exception as error:  # noqa: BLE001 - any failure is what the test counts
                self.failures.append(repr(error))
            self.stop.wait(self.pause)

    def searches(self) -> int:
        return len(self.totals) + len(self.failures)

    def wait_for(self, searches: int, *, timeout: float) -> None:
        """Until this many searches have been sent (or the loop or the timeout ends)."""
        finished = threading.Event()
        for _ in range(int(timeout * 20)):
            if self.searches() >= searches or not self.is_alive():
                return
            finished.wait(0.05)


@pytest.fixture
def live_backend(settings):
    with live_search_backend(settings, "swap") as backend:
        yield backend


def test_searches_keep_answering_in_full_while_the_index_is_rebuilt(live_backend):
    for n in range(STORIES):
        public_story(title=f"Harvest story {n}")
    call_command("search_index", "rebuild", verbosity=0)
    client = live_backend.client
    first = set(client.indices.get_alias(name=live_backend.alias))
    # An operator's replica count on the live index is kept by the rebuild (one node leaves it unassigned).
    client.indices.put_settings(index=live_backend.alias, settings={"index": {"number_of_replicas": 1}})

    loop = SearchLoop(live_backend, StoryQuery(text="harvest"), max_searches=MAX_SEARCHES)
    loop.start()
    seen = []
    for _ in range(REBUILDS):
        before = loop.searches()
        call_command("search_index", "rebuild", verbosity=0)
        seen.append(set(client.indices.get_alias(name=live_backend.alias)))
        assert loop.searches() > before, "no search ran while the index was rebuilt"
    loop.stop.set()
    loop.join(timeout=60)

    assert not loop.is_alive()
    assert loop.failures == []
    assert loop.totals and set(loop.totals) == {STORIES}
    behind_alias = seen[-1]
    assert len(behind_alias) == 1
    assert len({frozenset(indices) for indices in [first, *seen]}) == REBUILDS + 1, "each rebuild makes a new index"
    left = set(client.indices.get(index=f"{live_backend.alias}-*"))
    assert left == behind_alias, "the old indices are deleted"
    (name,) = behind_alias
    index_settings = client.indices.get_settings(index=name)[name]["settings"]["index"]
    assert index_settings.get("refresh_interval") in (None, "1s"), "refresh is back on after the load"
    assert index_settings["number_of_replicas"] == "1"
    assert client.count(index=live_backend.alias)["count"] == STORIES
