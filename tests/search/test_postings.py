"""Plain words are scored in memory from their postings: on SQLite the same stories, order and scores as FTS5's own
bm25(), on PostgreSQL the same stories as its tsvector match, and never a stale answer after the index changes."""

import numpy as np
import pytest
from django.db import connection

from search import postings
from search.analysis import SearchText
from search.backends import get_search_backend
from search.backends.database import _matching_ids, _ranked_sql
from search.columns import columns
from search.models import StoryDocument
from search.query import StoryQuery
from search.services import search_index_rebuild, story_index_refresh
from stories.factories import PersonFactory, public_story
from stories.models import StoryPage

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5's own scores and word groups")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's lexemes")


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.ELASTICSEARCH_URL = ""


@pytest.fixture(autouse=True)
def keep_every_list(monkeypatch):
    """Keep even a rare word's postings, so the kept copies are what every search below reads."""
    monkeypatch.setattr(postings, "KEEP_FROM_STORIES", 1)
    postings.forget()
    yield
    postings.forget()


@pytest.fixture
def village():
    """Stories of many lengths: words in titles and bodies, said once or many times, in English and Spanish, and
    "the" in every story, so that one word's idf is not positive."""
    person = PersonFactory()
    stories = []
    for n in range(12):
        stories.append(
            public_story(
                title=f"The orchard {n}" if n % 3 == 0 else f"The day {n}",
                summary=" ".join(["orchard"] * (n % 5) + ["houses", "and", "the", "rent"] * (n % 4 + 1))
                + " A long afternoon in the garden by the river." * (n % 6),
                people=[person],
            )
        )
    stories.append(
        public_story(
            title="Las casas del barrio",
            summary="Las casas y la vivienda del barrio, y el huerto.",
            language="es",
            people=[person],
        )
    )
    search_index_rebuild()
    return stories


def by_fts5(words: str) -> list[tuple[int, float]]:
    """Every match with FTS5's own score, best first."""
    with connection.cursor() as cursor:
        cursor.execute(*_ranked_sql(SearchText.parse(words), None))
        return [(int(pk), float(score)) for pk, score in cursor.fetchall()]


def in_memory(words: str) -> list[tuple[int, float]]:
    table = columns()
    rows, scores = postings.scored_matches(SearchText.parse(words), table)
    ids = table.ids[rows]
    best = postings.best_first(ids, scores, 0, len(ids))
    return [(int(ids[i]), float(scores[i])) for i in best]


def assert_same_as_the_database(words: str) -> None:
    """On SQLite FTS5's stories, order and scores; on PostgreSQL the stories its tsvector match finds."""
    found = in_memory(words)
    if connection.vendor != "sqlite":
        expected = set(_matching_ids(SearchText.parse(words)).tolist())
        assert expected, f"the control: the tsvector match finds {words!r}"
        assert {pk for pk, _ in found} == expected
        return
    expected = by_fts5(words)
    assert expected, f"the control: FTS5 finds {words!r}"
    assert [pk for pk, _ in found] == [pk for pk, _ in expected]
    assert np.allclose([s for _, s in found], [s for _, s in expected], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(
    "words", ["orchard", "houses", "housing", "rent garden", "the orchard", "casa", "vivienda", "day river", "barrio"]
)
def test_the_stories_found_are_the_databases_and_on_sqlite_so_are_the_scores(village, words):
    assert_same_as_the_database(words)


@sqlite_only
def test_the_in_every_story_is_scored_as_fts5_scores_it(village):
    assert_same_as_the_database("the")


@postgres_only
def test_a_stop_word_drops_out_of_its_language_as_postgresql_matches_it(village):
    """ "the" is no English word to PostgreSQL: alone it finds no English story, beside "orchard" it asks nothing."""
    text = SearchText.parse("the orchard")
    assert ("orchard",) in postings.lexemes_by_config(text)
    assert in_memory("the") == []
    assert {pk for pk, _ in in_memory("the orchard")} == set(_matching_ids(text).tolist())


@postgres_only
def test_a_phrase_or_a_long_query_is_left_to_the_tsvector():
    assert postings.lexemes_by_config(SearchText.parse('"safe housing"')) is None
    assert postings.lexemes_by_config(SearchText.parse("rent bus school work river")) is None
    assert postings.lexemes_by_config(SearchText.parse("housing rent")) == [("hous", "rent"), ("housing", "rent")]


@sqlite_only
def test_a_phrase_a_word_fts5_splits_or_a_long_query_is_left_to_fts5():
    assert postings.word_groups(SearchText.parse('"safe housing"')) is None
    assert postings.word_groups(SearchText.parse("tenant_union")) is None
    assert postings.word_groups(SearchText.parse("rent bus school work river")) is None
    assert postings.word_groups(SearchText.parse("housing rent")) == [("hous", "housing"), ("rent",)]


@sqlite_only
def test_a_word_said_too_often_is_ranked_by_fts5_and_not_read_again(village, monkeypatch):
    monkeypatch.setattr(postings, "MOST_APPEARANCES", 10)
    reads = []
    original = postings.read_postings
    monkeypatch.setattr(postings, "read_postings", lambda word, table: reads.append(word) or original(word, table))
    groups = postings.word_groups(SearchText.parse("the"))
    assert postings.scored_rows(groups, columns()) is None
    assert postings.scored_rows(groups, columns()) is None
    assert reads == ["the"]
    # The search still answers, in FTS5's own order.
    hits = get_search_backend().search(StoryQuery(text="the", page_size=50)).hits
    assert [hit.story.pk for hit in hits] == [pk for pk, _ in by_fts5("the")]


def test_a_story_indexed_after_a_search_is_scored_at_once(village):
    assert_same_as_the_database("orchard")
    newcomer = public_story(title="Orchard", summary="orchard " * 20, people=[PersonFactory()])
    assert story_index_refresh(story_id=newcomer.pk) == "indexed"
    assert_same_as_the_database("orchard")
    hits = get_search_backend().search(StoryQuery(text="orchard", page_size=2)).hits
    assert hits[0].story.pk == newcomer.pk


def test_a_story_edited_after_a_search_is_scored_by_its_new_words(village):
    before = {hit.story.pk for hit in get_search_backend().search(StoryQuery(text="orchard", page_size=50)).hits}
    story = village[3]
    assert story.pk in before
    StoryPage.objects.filter(pk=story.pk).update(title="The bakery", summary="Bread and rent.")
    assert story_index_refresh(story_id=story.pk) == "indexed"
    after = get_search_backend().search(StoryQuery(text="orchard", page_size=50))
    assert story.pk not in {hit.story.pk for hit in after.hits}
    assert after.total == len(before) - 1
    assert_same_as_the_database("orchard")
    assert_same_as_the_database("rent")


def test_a_removed_story_leaves_the_kept_postings(village):
    assert get_search_backend().search(StoryQuery(text="vivienda")).total == 1
    StoryPage.objects.filter(pk=village[-1].pk).update(withdrawn_at="2026-01-01T00:00Z")
    assert story_index_refresh(story_id=village[-1].pk) == "removed"
    assert get_search_backend().search(StoryQuery(text="vivienda")).total == 0


@postgres_only
def test_a_document_deleted_by_any_path_takes_its_words_out_of_the_postings(village):
    """The postings hold a story's words: they go with its document, even one deleted past the backend."""

    def postings_of(story_id: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_story_term WHERE story_id = %s", [story_id])
            return cursor.fetchone()[0]

    spanish, other = village[-1], village[0]
    assert postings_of(spanish.pk) and postings_of(other.pk)
    StoryDocument.objects.filter(pk=spanish.pk).delete()
    assert postings_of(spanish.pk) == 0
    assert postings_of(other.pk)
    assert story_index_refresh(story_id=spanish.pk) == "indexed"
    assert get_search_backend().search(StoryQuery(text="vivienda")).total == 1
