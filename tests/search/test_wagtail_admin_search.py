"""The Wagtail admin's search on a live Elasticsearch 9 node, through the archive's subclass of Wagtail's backend. The
live tests need a cluster at ELASTICSEARCH_URL (`scripts/services elasticsearch`) and are skipped otherwise."""

import os

import pytest
from django.core.management import call_command
from modelsearch.backends.elasticsearch9 import Elasticsearch9SearchBackend

from search.wagtail_backend import ArchiveElasticsearchSearchBackend
from stories.factories import CommunityFactory, PersonFactory, public_story
from tests.live_cluster import LIVE_CLUSTER, live


def test_a_cluster_with_analysis_common_gets_wagtails_own_index_settings():
    """Only a cluster without the module gets the built-in analyzers; a full Elasticsearch keeps ngram autocomplete."""
    backend = ArchiveElasticsearchSearchBackend({"URLS": ["http://es.invalid:9200"]})
    backend.has_analysis_module = True
    assert backend.index_settings() == Elasticsearch9SearchBackend({"URLS": ["http://es.invalid:9200"]}).settings

    backend.has_analysis_module = False
    analysis = backend.index_settings()["settings"]["analysis"]
    assert set(analysis) == {"analyzer"}
    assert {analyzer["tokenizer"] for analyzer in analysis["analyzer"].values()} == {"standard"}


@pytest.fixture
def admin_search_on_elasticsearch(settings):
    """Wagtail's search switched to the live node under an index prefix of this run's own, emptied afterwards."""
    prefix = f"storyarchive-test-{os.getpid()}-wagtail-"
    params = {"URLS": [LIVE_CLUSTER], "INDEX_PREFIX": prefix}
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.wagtail_backend", **params}}
    yield prefix
    client = ArchiveElasticsearchSearchBackend(dict(params)).es
    made = list(client.indices.get(index=f"{prefix}*"))
    if made:
        client.indices.delete(index=",".join(made))


@pytest.mark.elasticsearch
@live
def test_the_admin_finds_a_story_by_a_word_of_its_title(client, admin_user, admin_search_on_elasticsearch):
    public_story(title="Salmon run at the river mouth")
    public_story(title="Harvest festival on the mesa")
    call_command("wagtail_update_index", stdout=open(os.devnull, "w"))

    client.force_login(admin_user)
    response = client.get("/admin/pages/search/", {"q": "salmon"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Salmon run at the river mouth" in page
    assert "Harvest festival on the mesa" not in page


@pytest.mark.elasticsearch
@live
def test_the_stories_are_in_the_elasticsearch_index_wagtail_searched(settings, admin_search_on_elasticsearch):
    """Proves the admin's answers came from the node: the story's document is in the index under the test's prefix."""
    public_story(title="Salmon run at the river mouth")
    call_command("wagtail_update_index", stdout=open(os.devnull, "w"))

    backend = ArchiveElasticsearchSearchBackend(dict(settings.WAGTAILSEARCH_BACKENDS["default"]))
    index = f"{admin_search_on_elasticsearch}wagtailcore_page"
    found = backend.es.search(index=index, query={"match": {"title": "salmon"}})
    assert found["hits"]["total"]["value"] == 1


@pytest.mark.elasticsearch
@live
def test_a_facilitator_finds_a_person_in_the_snippet_listing(client, facilitator, admin_search_on_elasticsearch):
    """The listing's search filters by the ids of the people of the facilitator's communities (Person.search_fields),
    on the node; someone of a community the facilitator is not in is not found."""
    community = CommunityFactory(name="Elm Street")
    PersonFactory(display_name="Marisol Quintero", community=community)
    PersonFactory(display_name="Tobias Wren", community=community)
    outside = CommunityFactory(name="Riverside")
    facilitator.facilitated_communities.remove(outside)  # the fixture puts the facilitator in every new community
    PersonFactory(display_name="Rafa Quintero", community=outside)
    call_command("wagtail_update_index", stdout=open(os.devnull, "w"))

    client.force_login(facilitator)
    response = client.get("/admin/snippets/stories/person/", {"q": "Quintero"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Marisol Quintero" in page
    assert "Tobias Wren" not in page
    assert "Rafa Quintero" not in page
