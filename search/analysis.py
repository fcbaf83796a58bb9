"""How search reads words: the analyzer for a story's language, the visitor's query text, and highlighting.

Stemming happens here, in Python, for the database backend on SQLite (FTS5 has no Spanish stemmer) and for
highlighting on every backend, so a highlighted word is the same word that matched.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import snowballstemmer
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Longer queries are cut here: nobody types more, and it bounds the work a hostile query can ask for.
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 24
WORD = re.compile(r"\w+", re.UNICODE)

ANALYZERS = {"en": "english", "es": "spanish"}
DEFAULT_ANALYZER = "simple"
QUERY_ANALYZERS = ("english", "spanish", DEFAULT_ANALYZER)
# PostgreSQL's text-search configuration for each analyzer.
POSTGRES_CONFIGS = {"english": "english", "spanish": "spanish", "simple": "simple"}


def analyzer_for(language: str) -> str:
    """english, spanish or simple, from a BCP 47 code such as en, es-MX or tl."""
    return ANALYZERS.get(primary_language(language), DEFAULT_ANALYZER)


def primary_language(language: str) -> str:
    return (language or "").split("-")[0].lower()


@functools.cache
def _stemmer(analyzer: str):
    return snowballstemmer.stemmer(analyzer) if analyzer != DEFAULT_ANALYZER else None


@functools.lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lower case without accents, the way FTS5's remove_diacritics reads it."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Pure-Python Snowball takes about a millisecond a word; a story's vocabulary repeats, so remember the answers.
@functools.lru_cache(maxsize=200_000)
def stem(word: str, analyzer: str) -> str:
    stemmer = _stemmer(analyzer)
    lowered = word.lower()
    return fold(stemmer.stemWord(lowered) if stemmer else lowered)


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


@functools.cache
def stop_words() -> frozenset[str]:
    """English and Spanish stop words (the stop-words library's lists), folded as `fold` reads words: the words too
    common to say anything about a story. One list for every language, as a transcript may mix the two."""
    from stop_words import get_stop_words

    return frozenset(fold(word) for language in ("en", "es") for word in get_stop_words(language))


def is_stop_word(word: str) -> bool:
    """A word (folded or not) too common to tell one story from another."""
    return fold(word) in stop_words()


def stemmed_text(text: str, analyzer: str) -> str:
    """The text as the index stores it: stemmed words separated by spaces."""
    return " ".join(stem(word, analyzer) for word in words(text))


@dataclass(frozen=True)
class SearchText:
    """What a visitor typed, read as plain words and quoted phrases; nothing in it is an operator."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    raw: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str | None) -> "SearchText":
        text = (text or "")[:MAX_QUERY_CHARS]
        phrases, terms = [], []
        # Quotes pair up left to right; a quote left over is just a character.
        pieces = text.split('"')
        for position, piece in enumerate(pieces):
            quoted = position % 2 == 1 and position < len(pieces) - 1
            found = words(piece)
            if quoted and len(found) > 1:
                phrases.append(tuple(found))
            else:
                terms.extend(found)
        budget = MAX_QUERY_TERMS
        kept_phrases = []
        for phrase in phrases:
            if budget <= 0:
                break
            kept_phrases.append(phrase[:budget])
            budget -= len(kept_phrases[-1])
        kept_terms = tuple(dict.fromkeys(terms))[: max(budget, 0)]
        return cls(terms=kept_terms, phrases=tuple(kept_phrases), raw=text)

    def __bool__(self):
        return bool(self.terms or self.phrases)

    def all_words(self) -> list[str]:
        return [*self.terms, *(word for phrase in self.phrases for word in phrase)]

    def stems(self, analyzer: str) -> set[str]:
        """The stems a document analysed with `analyzer` would hold for these words."""
        return {stem(word, analyzer) for word in self.all_words()}

    def strength_in(self, text: str, analyzer: str) -> tuple[int, int] | None:
        """How well a passage analysed with `analyzer` holds these words, under any language's stemming as the
        full-text match reads them: (how many terms and phrases come up, how many times), or None for none."""
        stems = [stem(word, analyzer) for word in words(text)]
        present = set(stems)
        found = times = 0
        for term in self.terms:
            options = {stem(term, query_analyzer) for query_analyzer in QUERY_ANALYZERS} & present
            if options:
                found += 1
                times += sum(1 for stemmed in stems if stemmed in options)
        for phrase in self.phrases:
            runs = {tuple(stem(word, query_analyzer) for word in phrase) for query_analyzer in QUERY_ANALYZERS}
            width = len(phrase)
            count = sum(1 for i in range(len(stems) - width + 1) if tuple(stems[i : i + width]) in runs)
            if count:
                found += 1
                times += count
        return (found, times) if found else None

    def fts5_match(self) -> str:
        """An FTS5 MATCH expression: every term and phrase must appear, under any language's stemming."""
        clauses = []
        for term in self.terms:
            clauses.append(_any_of(_quoted(stem(term, analyzer)) for analyzer in QUERY_ANALYZERS))
        for phrase in self.phrases:
            clauses.append(
                _any_of(_quoted(" ".join(stem(w, analyzer) for w in phrase)) for analyzer in QUERY_ANALYZERS)
            )
        return " AND ".join(clauses)


def _quoted(stemmed: str) -> str:
    # Stems hold only word characters, so quoting them makes FTS5 read them as plain strings, never as operators.
    return '"' + stemmed + '"'


def _any_of(options) -> str:
    unique = list(dict.fromkeys(options))
    return unique[0] if len(unique) == 1 else "(" + " OR ".join(unique) + ")"


def highlight(text: str, search_text: SearchText, analyzer: str, *, around: int | None = None) -> SafeString:
    """The text, HTML-escaped, with matched words in <mark>. With `around`, only that many words either side of
    the first match (or the start, when nothing matched)."""
    stems = search_text.stems(analyzer) | search_text.stems(DEFAULT_ANALYZER)
    matches = list(WORD.finditer(text or ""))
    hit_positions = [i for i, m in enumerate(matches) if stem(m.group(), analyzer) in stems]
    start_char, end_char = 0, len(text or "")
    prefix = suffix = ""
    if around is not None and matches:
        first = hit_positions[0] if hit_positions else 0
        low = max(first - around, 0)
        high = min(first + around, len(matches) - 1)
        start_char = matches[low].start() if low > 0 else 0
        end_char = matches[high].end() if high < len(matches) - 1 else len(text)
        prefix = "… " if low > 0 else ""
        suffix = " …" if high < len(matches) - 1 else ""
    pieces, cursor = [prefix], start_char
    hits = set(hit_positions)
    for i, m in enumerate(matches):
        if m.start() < start_char or m.end() > end_char or i not in hits:
            continue
        pieces.append(escape(text[cursor : m.start()]))
        pieces.append(f"<mark>{escape(m.group())}</mark>")
        cursor = m.end()
    pieces.append(escape(text[cursor:end_char]))
    pieces.append(suffix)
    return mark_safe("".join(pieces))  # noqa: S308 - every piece of text above went through escape()
