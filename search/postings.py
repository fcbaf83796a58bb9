"""Relevance for plain words, scored in memory rather than by FTS5's bm25() or PostgreSQL's ts_rank() on every
matching row.

bm25() costs about a microsecond for each row that matches, so a word that comes up in most of 100,000 stories costs
50 ms or more before the first result is known. The same score is a few array operations once the word's postings
(which stories hold it, and how often in the title and in the body) are in memory: they come from the index's
fts5vocab table (migration 0004) and each process keeps the postings of common words until the index changes.

The formula is FTS5's own (ext/fts5/fts5_aux.c): for every phrase, idf * f * (k1 + 1) / (f + k1 * (1 - b + b * D /
avgdl)), where f counts the phrase's appearances with each column's weight, D is the story's length in words over all
columns, avgdl the average of D, and idf = log((N - n + 0.5) / (n + 0.5)), or 1e-6 when that is not positive. A test
holds the two to the same order and scores. Quoted phrases of several words still go to FTS5, which knows positions.

On PostgreSQL the postings come from the index's own postings table (migration 0006): one entry per story and word,
read from its primary key without visiting the table, so a word found in most stories costs one index range and no
ts_rank() of every match. A story's length there is its number of indexed words (stop words are not indexed), and the
words matched are PostgreSQL's own lexemes of each configuration, as its tsquery would match them; phrases still go to
the tsvector, which knows positions.
"""

import functools
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.db import connection

from .analysis import POSTGRES_CONFIGS, QUERY_ANALYZERS, SearchText, stem
from .columns import Columns

K1, B = 1.2, 0.75
# The column weights, here and in the FTS5 query ranked by bm25() (backends/database.py): a title word counts five times.
TITLE_WEIGHT, BODY_WEIGHT = 5.0, 1.0
# A stem of plain lower-case letters and digits is one FTS5 token, so its postings are what a quoted match finds.
ONE_TOKEN = re.compile(r"[a-z0-9]+")
# Postings of rarer words are read each time (well under a millisecond); commoner ones are kept, up to this many
# story entries in all (12 bytes each).
KEEP_FROM_STORIES = 1_000
KEPT_ENTRIES = 2_000_000
# Reading postings costs about a quarter of a microsecond per appearance. A word said more often than this across the
# index ("the": 1.6 million times in 100,000 stories, 0.4 s to read) is ranked by FTS5 instead, which costs about a
# microsecond per story holding it; this process remembers such words and does not try them again.
MOST_APPEARANCES = 200_000
TOO_COMMON_REMEMBERED = 10_000
# Longer queries go to FTS5, where every added word narrows the stories bm25() has to score.
MOST_WORDS = 4


@dataclass(frozen=True)
class Postings:
    rows: np.ndarray  # int64, ascending: the rows (in the columns of the same index token) of the stories holding it
    weighted: np.ndarray  # float32: TITLE_WEIGHT x its appearances in the title + BODY_WEIGHT x those in the body


def word_groups(text: SearchText) -> list[tuple[str, ...]] | None:
    """Per query word, the stems it may take in any language, as the FTS5 expression ORs them; None when the query
    holds a phrase or a stem FTS5 would read as more than one token."""
    if text.phrases or not text.terms or len(text.terms) > MOST_WORDS:
        return None
    groups = [tuple(dict.fromkeys(stem(term, analyzer) for analyzer in QUERY_ANALYZERS)) for term in text.terms]
    if not all(ONE_TOKEN.fullmatch(word) for group in groups for word in group):
        return None
    return groups


def scored_matches(text: SearchText, table: Columns) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows of the stories the words match, ascending, and each one's score; None when the database should match
    and rank them (a phrase, a long query, a word too common to read)."""
    if not text:
        return None
    if connection.vendor == "postgresql":
        required = lexemes_by_config(text)
        return scored_rows_any(required, table) if required is not None else None
    groups = word_groups(text)
    return scored_rows(groups, table) if groups is not None else None


def scored_rows(groups: list[tuple[str, ...]], table: Columns) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows of the stories holding every group (any stem of each), ascending, and each one's BM25 score; None
    when a word is too common to read its postings, and FTS5 should rank instead."""
    lists = _postings_of({word for group in groups for word in group}, table)
    if lists is None:
        return None
    matched = np.ones(len(table), dtype=bool)
    for group in groups:
        holders = np.zeros(len(table), dtype=bool)
        for word in group:
            holders[lists[word].rows] = True
        matched &= holders
    rows = np.flatnonzero(matched)
    return rows, _bm25(rows, lists, table)


def scored_rows_any(required: list[tuple[str, ...]], table: Columns) -> tuple[np.ndarray, np.ndarray]:
    """PostgreSQL: the rows of the stories holding every lexeme of any one configuration's list, ascending, and each
    one's BM25 score over all the lists' lexemes."""
    lists = _postings_of({word for words_of_config in required for word in words_of_config}, table)
    matched = np.zeros(len(table), dtype=bool)
    for words_of_config in required:
        holders = np.ones(len(table), dtype=bool)
        for word in words_of_config:
            holding = np.zeros(len(table), dtype=bool)
            holding[lists[word].rows] = True
            holders &= holding
        matched |= holders
    rows = np.flatnonzero(matched)
    return rows, _bm25(rows, lists, table)


def _postings_of(words_wanted, table: Columns) -> dict[str, "Postings"] | None:
    lists = {}
    for word in sorted(words_wanted):
        if (found := postings(word, table)) is None:
            return None
        lists[word] = found
    return lists


def _bm25(rows: np.ndarray, lists: dict[str, "Postings"], table: Columns) -> np.ndarray:
    stories = len(table)
    average = float(table.lengths.sum()) / stories if stories else 1.0
    normal = K1 * (1 - B + B * table.lengths[rows] / (average or 1.0))
    scores = np.zeros(len(rows), dtype=np.float64)
    times = np.zeros(len(table), dtype=np.float64)
    for found in lists.values():
        if not len(found.rows):
            continue  # a stem no story holds adds nothing, as in FTS5
        idf = math.log((stories - len(found.rows) + 0.5) / (len(found.rows) + 0.5))
        times[found.rows] = found.weighted
        held = times[rows]
        times[found.rows] = 0.0
        scores += (idf if idf > 0 else 1e-6) * held * (K1 + 1) / (held + normal)
    return scores


def lexemes_by_config(text: SearchText) -> list[tuple[str, ...]] | None:
    """PostgreSQL: per text-search configuration, the lexemes a story must all hold to match the words under it, as
    the tsquery `plainto_tsquery(config, word) && ...` reads them (a stop word drops out of its configuration); a
    configuration left with none matches nothing. None for a phrase or a long query."""
    if text.phrases or not text.terms or len(text.terms) > MOST_WORDS:
        return None
    required = []
    for position in range(len(QUERY_ANALYZERS)):
        found = tuple(dict.fromkeys(lexeme for term in text.terms for lexeme in _lexemes(term)[position]))
        if found and found not in required:
            required.append(found)
    return required


@functools.lru_cache(maxsize=10_000)
def _lexemes(term: str) -> tuple[tuple[str, ...], ...]:
    """The term's lexemes under each of QUERY_ANALYZERS' configurations, by PostgreSQL's own parser and stemmers."""
    configs = [POSTGRES_CONFIGS[analyzer] for analyzer in QUERY_ANALYZERS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT config, array(SELECT lexeme FROM unnest(to_tsvector(config::regconfig, %s)) ORDER BY lexeme) "
            "FROM unnest(%s::text[]) AS config",
            [term, configs],
        )
        found = dict(cursor.fetchall())
    return tuple(tuple(found[config]) for config in configs)


def best_first(ids: np.ndarray, scores: np.ndarray, first: int, last: int) -> np.ndarray:
    """Positions of the [first, last) best: highest score first, then the highest id, as the FTS5 query orders."""
    if first >= len(ids):
        return np.empty(0, dtype=np.int64)
    candidates = np.arange(len(ids))
    if last < len(ids):
        # Everything scoring at least the last-th best score; ties there are settled by id below.
        threshold = np.partition(scores, len(ids) - last)[len(ids) - last]
        candidates = np.flatnonzero(scores >= threshold)
    order = np.lexsort((-ids[candidates], -scores[candidates]))
    return candidates[order][first:last]


_lock = threading.Lock()
_kept: OrderedDict[str, Postings] = OrderedDict()
_kept_state = {"token": None, "entries": 0}
_too_common: set[str] = set()


def postings(word: str, table: Columns) -> Postings | None:
    """The word's postings on the rows of `table`, kept by this process while the index's token stays the table's;
    None for a word said too often to read them."""
    token = table.token
    with _lock:
        if word in _too_common:
            return None
        if _kept_state["token"] != token:
            _kept.clear()
            _kept_state.update(token=token, entries=0)
        if word in _kept:
            _kept.move_to_end(word)
            return _kept[word]
    found = read_postings(word, table)
    if found is None:
        with _lock:
            if len(_too_common) < TOO_COMMON_REMEMBERED:
                _too_common.add(word)
        return None
    if len(found.rows) >= KEEP_FROM_STORIES:
        with _lock:
            if _kept_state["token"] == token and word not in _kept:
                _kept[word] = found
                _kept_state["entries"] += len(found.rows)
                while _kept_state["entries"] > KEPT_ENTRIES and len(_kept) > 1:
                    _word, dropped = _kept.popitem(last=False)
                    _kept_state["entries"] -= len(dropped.rows)
    return found


def read_postings(word: str, table: Columns) -> Postings | None:
    """Every story holding the word, on PostgreSQL from the postings table and on SQLite from the fts5vocab table (one row per appearance, in story order), on the
    table's rows: a story indexed after the table was read is left out, as it is from the counts. None when the word
    appears more than MOST_APPEARANCES times."""
    if connection.vendor == "postgresql":
        return _read_postgres(word, table)
    with connection.cursor() as cursor:
        # Two strings built inside SQLite: a Python row per appearance would cost several times the reading.
        cursor.execute(
            "SELECT group_concat(doc), group_concat(col = 'title'), count(*) FROM "
            "(SELECT doc, col FROM search_story_terms WHERE term = %s LIMIT %s)",
            [word, MOST_APPEARANCES + 1],
        )
        docs, in_title, appearances = cursor.fetchone()
    if appearances > MOST_APPEARANCES:
        return None
    if not docs:
        return Postings(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
    docs = np.fromstring(docs, dtype=np.int64, sep=",")
    in_title = np.fromstring(in_title, dtype=np.int8, sep=",")
    if len(docs) > 1 and np.any(docs[1:] < docs[:-1]):
        order = np.argsort(docs, kind="stable")
        docs, in_title = docs[order], in_title[order]
    starts = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
    appearances = np.diff(np.append(starts, len(docs)))
    titled = np.add.reduceat(in_title.astype(np.int64), starts)
    weighted = TITLE_WEIGHT * titled + BODY_WEIGHT * (appearances - titled)
    rows, held = table.rows_of(docs[starts])
    return Postings(rows, weighted[held].astype(np.float32))


def _read_postgres(word: str, table: Columns) -> Postings:
    """One entry per story: its weighted appearances are stored, so even a word in every story is one index range."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(story_id::text, ','), string_agg(weighted::text, ',') FROM search_story_term "
            "WHERE term = %s",
            [word],
        )
        docs, weighted = cursor.fetchone()
    if not docs:
        return Postings(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
    docs = np.fromstring(docs, dtype=np.int64, sep=",")
    weighted = np.fromstring(weighted, dtype=np.float32, sep=",")
    if len(docs) > 1 and np.any(docs[1:] < docs[:-1]):
        order = np.argsort(docs, kind="stable")
        docs, weighted = docs[order], weighted[order]
    rows, held = table.rows_of(docs)
    return Postings(rows, weighted[held])


def forget() -> None:
    """Drop every kept list (tests, and after the index is cleared)."""
    with _lock:
        _kept.clear()
        _kept_state.update(token=None, entries=0)
        _too_common.clear()
