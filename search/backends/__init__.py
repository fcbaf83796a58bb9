"""The search backend in use: the database by default, Elasticsearch when ELASTICSEARCH_URL is set."""

import functools
from typing import Protocol

from django.conf import settings

from ..figures import StoryFigures, StoryTexts
from ..query import StoryQuery, StorySearchResults
from ..selectors import IndexedStory


class SearchUnavailable(Exception):
    """The search backend cannot answer now (its cluster is unreachable or failing); retrying later may succeed."""


class StorySearchBackend(Protocol):
    name: str

    def index_story(self, story: IndexedStory) -> None: ...

    def remove_story(self, story_id: int) -> None: ...

    def indexed_ids(self, among=None) -> set[int]:
        """The ids of the stories in the index: all of them, or those among `among` (an iterable of ids)."""

    def rebuild(self, stories) -> int:
        """Replace the whole index with `stories` (an iterable of IndexedStory); return how many were indexed."""

    def search(self, query: StoryQuery) -> StorySearchResults: ...

    def insights(self, query: StoryQuery) -> StoryFigures:
        """Stories and seconds of recording by each dimension and pair of dimensions, over every story matched."""

    def texts_to_read(self, query: StoryQuery, *, per_generation: int) -> StoryTexts:
        """The stories whose words insights/words.py reads for the query: each generation's whole, or
        `per_generation` of them (search.figures.stories_to_read)."""

    def story_passages(self, story_ids) -> dict[int, tuple[str, ...]]:
        """Each indexed story's own words: its written story, then each transcript segment, in order; only for the
        stories the visibility rule still allows."""

    def suggest(self, prefix: str, *, limit: int = 8) -> list[str]: ...

    def status(self) -> dict: ...


@functools.cache
def _backend_for(url: str, prefix: str) -> StorySearchBackend:
    if url:
        from .elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(url=url, prefix=prefix)
    from .database import DatabaseBackend

    return DatabaseBackend()


def get_search_backend() -> StorySearchBackend:
    return _backend_for(settings.ELASTICSEARCH_URL, settings.ELASTICSEARCH_INDEX_PREFIX)
