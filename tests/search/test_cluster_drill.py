"""A node of the three-node cluster dies (`kill -9`) while visitors search: every search still answers in full, and
once the node is back the cluster is green with every story still indexed.

Needs the cluster (`scripts/services elasticsearch-cluster`) and its URLs in ELASTICSEARCH_CLUSTER_URLS; run it alone
with `make drill`. The test kills one node's process through its pid file and starts it again with
`scripts/services elasticsearch-node NAME`."""

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from search.backends import get_search_backend
from search.query import StoryQuery
from stories.factories import public_story

from .test_rebuild_without_downtime import SearchLoop

CLUSTER_URLS = os.environ.get("ELASTICSEARCH_CLUSTER_URLS", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.drill,
    pytest.mark.skipif(
        not CLUSTER_URLS, reason="needs the three-node cluster: set ELASTICSEARCH_CLUSTER_URLS (make drill)"
    ),
]

STORIES = 36
# The loop's bounds: one search every tenth of a second, at most this many, whatever happens.
MAX_SEARCHES = 3000
SEARCHES_BEFORE_THE_KILL = 20
SEARCHES_WITH_A_NODE_DOWN = 100


def node_pid(name: str) -> int:
    (pidfile,) = ROOT.glob(f"var/elasticsearch/*/nodes/{name}/elasticsearch.pid")
    return int(pidfile.read_text())


@pytest.fixture
def cluster_backend(settings):
    settings.ELASTICSEARCH_URL = CLUSTER_URLS
    settings.ELASTICSEARCH_INDEX_PREFIX = f"storyarchive-drill-{os.getpid()}"
    backend = get_search_backend()
    yield backend
    made = list(backend.client.indices.get(index=f"{backend.alias}-*"))
    if made:
        backend.client.indices.delete(index=",".join(made))


def test_searches_keep_answering_while_a_node_is_killed_and_comes_back(cluster_backend):
    client = cluster_backend.client
    assert len(client.transport.node_pool.all()) == 3, "the client knows every node"
    for n in range(STORIES):
        public_story(title=f"Harvest story {n}")
    call_command("search_index", "rebuild", verbosity=0)
    client.indices.put_settings(index=cluster_backend.alias, settings={"index": {"number_of_replicas": 1}})
    # A rebuild keeps the replicas and waits for their copies before it swaps.
    call_command("search_index", "rebuild", verbosity=0)
    health = client.cluster.health(index=cluster_backend.alias, wait_for_status="green", timeout="120s")
    assert health["status"] == "green"
    assert health["active_shards"] == 2
    assert client.count(index=cluster_backend.alias)["count"] == STORIES

    # The node that holds the primary copy dies.
    shards = client.cat.shards(index=cluster_backend.alias, format="json")
    (victim,) = [shard["node"] for shard in shards if shard["prirep"] == "p"]
    loop = SearchLoop(cluster_backend, StoryQuery(text="harvest"), max_searches=MAX_SEARCHES, pause=0.1)
    loop.start()
    try:
        loop.wait_for(SEARCHES_BEFORE_THE_KILL, timeout=120)
        killed_at = loop.searches()
        os.kill(node_pid(victim), signal.SIGKILL)
        loop.wait_for(killed_at + SEARCHES_WITH_A_NODE_DOWN, timeout=300)
        searches_with_a_node_down = loop.searches() - killed_at
        subprocess.run([ROOT / "scripts" / "services", "elasticsearch-node", victim], check=True, timeout=600)
        health = client.cluster.health(
            index=cluster_backend.alias, wait_for_status="green", wait_for_nodes="3", timeout="180s"
        )
    finally:
        loop.stop.set()
        loop.join(timeout=60)

    assert searches_with_a_node_down >= SEARCHES_WITH_A_NODE_DOWN
    assert loop.failures == []
    assert loop.totals and set(loop.totals) == {STORIES}
    assert health["status"] == "green" and not health["timed_out"]
    assert client.cluster.health()["number_of_nodes"] == 3
    assert client.count(index=cluster_backend.alias)["count"] == STORIES
