"""Wagtail's own Elasticsearch 9 backend (the admin's search), made to run on a cluster without analysis-common.

Wagtail's index settings define ngram and edge_ngram tokenizers and filters and use asciifolding, all of which live in
Elasticsearch's analysis-common module. Elastic's test distribution on Maven Central ships without that module, and
creating an index there fails with "Unknown tokenizer type [ngram]". On such a cluster this backend defines the same
two analyzers from built-in parts only (the standard tokenizer and the lowercase filter), so indexing and the admin's
search work. What is lost there: autocomplete matches whole words only ("Riv" no longer finds "River"), and accents
are not folded ("cafe" does not find "café"). On a full Elasticsearch, Wagtail's settings are used unchanged.
"""

from copy import deepcopy
from functools import cached_property

from modelsearch.backends.elasticsearch9 import Elasticsearch9Index, Elasticsearch9SearchBackend

ANALYSIS_MODULE = "analysis-common"

# Wagtail's analyzer names, which its mappings refer to, made only of components every Elasticsearch has.
BUILT_IN_ANALYSIS = {
    "analyzer": {
        "ngram_analyzer": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
        "edgengram_analyzer": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
    }
}


class ArchiveElasticsearchIndex(Elasticsearch9Index):
    def put(self):
        self.es.indices.create(index=self.name, **self.backend.index_settings())


class ArchiveElasticsearchSearchBackend(Elasticsearch9SearchBackend):
    """Wagtail's Elasticsearch 9 backend, with analysis settings the cluster can build."""

    index_class = ArchiveElasticsearchIndex

    @cached_property
    def has_analysis_module(self) -> bool:
        """Whether every node of the cluster has analysis-common; asked once per backend."""
        nodes = self.es.nodes.info(filter_path="nodes.*.modules.name").get("nodes", {})
        return bool(nodes) and all(
            ANALYSIS_MODULE in {module["name"] for module in node.get("modules", [])} for node in nodes.values()
        )

    def index_settings(self) -> dict:
        """The settings a new index is created with: Wagtail's own, or built-in analyzers only without the module."""
        if self.has_analysis_module:
            return self.settings
        settings = deepcopy(self.settings)
        settings["settings"]["analysis"] = deepcopy(BUILT_IN_ANALYSIS)
        return settings


SearchBackend = ArchiveElasticsearchSearchBackend
