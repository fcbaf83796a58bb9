"""In their own words: the words and two-word phrases most distinctive of each generation, against the rest.

Each generation's words are compared with the words of every other story the filters match by the weighted log-odds
ratio with an informative Dirichlet prior, in Monroe, Colaresi and Quinn (2008), "Fightin' Words: Lexical Feature
Selection and Evaluation for Identifying the Content of Political Conflict", Political Analysis 16(4), 372-403,
section 3.5: the prior is each word's share of all the words read, weighing as much as PRIOR_WEIGHT of them
(alpha_w = PRIOR_WEIGHT * y_w, y_w its count over every story read), which pulls a word said a few times towards the
average without drowning a clear difference in a small archive. A word is ranked by its z-score.

What is read: the written story and the transcript people read, as the search index holds them, so only public
stories count. Words are read as search reads them (search.analysis: the same words, folded to lower case without
accents); stop words, numbers and any phrase holding a stop word are left out. A word must be said in at least
THRESHOLD of the generation's stories (no one storyteller's word, name or place leads a list), and a generation with
fewer than THRESHOLD stories under the filters shows no words, as the insights' tables suppress such a figure.

Work per request has a ceiling: at most search.figures.READ_PER_GENERATION stories of each generation are read, the
same ones whatever the filter where it can (search.figures.stories_to_read). The visibility rule runs again on each
story before its words are first read. Each process keeps every story's counted words, and the answers, under the
index's state: any change to the index, a story withdrawn or hidden included, changes it and drops them all.
"""

import dataclasses
import functools
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np
from django.http import QueryDict
from django.urls import reverse

from search.analysis import fold, is_stop_word, words
from search.backends import get_search_backend
from search.figures import READ_PER_GENERATION, StoryTexts
from search.query import StoryQuery
from stories.generations import BY_SLUG as GENERATIONS_BY_SLUG
from stories.generations import NOT_SHARED

from .tables import GENERATION_ORDER, THRESHOLD

WORDS_SHOWN = 10
PHRASES_SHOWN = 5
# A z-score above this is a difference unlikely by chance (two-sided, 95%); nothing less is called distinctive.
DISTINCTIVE_Z = 1.96
# How much the prior weighs against the words read: a tenth of them.
PRIOR_WEIGHT = 0.1
# Each process keeps stories' counted words up to this many entries in all (a word or phrase of one story; about a
# hundred bytes each), then counts the others on each request.
KEPT_ENTRIES = 500_000
KEPT_ANSWERS = 64


def fightin_words(group: np.ndarray, rest: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """z-scores of the weighted log-odds ratio of each word between `group` and `rest` (word counts, aligned), with
    the informative Dirichlet prior `prior` (Monroe, Colaresi and Quinn 2008, eq. 16, 18-20); positive: the group's.
    """
    group, rest, prior = (np.asarray(a, dtype=np.float64) for a in (group, rest, prior))
    prior_total = prior.sum()
    in_group = group + prior
    in_rest = rest + prior
    log_odds = np.log(in_group / (group.sum() + prior_total - in_group)) - np.log(
        in_rest / (rest.sum() + prior_total - in_rest)
    )
    variance = 1.0 / in_group + 1.0 / in_rest
    return log_odds / np.sqrt(variance)


@functools.lru_cache(maxsize=200_000)
def _comparable(word: str) -> str | None:
    """The word as compared (folded as search reads it), or None for a word left out: a stop word, a number (so no
    birth year) or a single letter."""
    folded = fold(word)
    return folded if len(folded) > 1 and folded.isalpha() and not is_stop_word(folded) else None


def story_terms(passages) -> Counter:
    """How often a story says each word and two-word phrase ("bus pass"), stop words and numbers left out; a phrase
    is two words side by side in one passage, neither of them left out."""
    counted = Counter()
    for passage in passages:
        said = [_comparable(word) for word in words(passage)]
        counted.update(word for word in said if word)
        counted.update(f"{first} {second}" for first, second in zip(said, said[1:], strict=False) if first and second)
    return counted


@dataclass(frozen=True)
class Term:
    text: str
    z: float
    stories: int  # of the generation's stories read, how many say it

    @property
    def is_phrase(self) -> bool:
        return " " in self.text


@dataclass
class GenerationWords:
    slug: str
    label: str
    # Every story of the generation the filters match, and how many of them were read. Neither is shown: the
    # insights' tables give the first, suppressed where it must be.
    stories: int
    read: int
    words: list[Term] = field(default_factory=list)
    phrases: list[Term] = field(default_factory=list)
    # Why no words are shown, when none are.
    withheld: str = ""

    @property
    def suppressed(self) -> bool:
        return self.stories < THRESHOLD

    @property
    def sampled(self) -> bool:
        return self.read < self.stories


@dataclass
class OwnWords:
    query: StoryQuery
    generations: list[GenerationWords]
    stories_read: int
    per_generation: int = READ_PER_GENERATION

    @property
    def summary(self) -> str:
        """One sentence a person can read instead of the lists."""
        if not self.generations:
            return "No public story these filters match has a generation shared, so there are no words to compare."
        parts = []
        for generation in self.generations:
            leading = [term.text for term in (generation.words or generation.phrases)[:3]]
            parts.append(f"{generation.label}: “{'”, “'.join(leading)}”" if leading else f"{generation.label}: none")
        if not any(generation.words or generation.phrases for generation in self.generations):
            return "No word stands out for any generation among the stories these filters match."
        return "The words that most set each generation apart, most distinctive first. " + "; ".join(parts) + "."


_lock = threading.Lock()
_kept = {"state": None, "terms": {}, "entries": 0, "answers": OrderedDict()}


def search_url(params: QueryDict, generation: str, term: str) -> str:
    """/search/ for the quoted word or phrase, with the same filters and words as `params` and only this generation:
    its results show the moments where it is said."""
    search = QueryDict(mutable=True)
    for name in ("theme", "community", "language", "kind", "intergenerational", "recorded_from", "recorded_to"):
        values = [value for value in params.getlist(name) if value]
        if values:
            search.setlist(name, values)
    typed = (params.get("q") or "").strip()
    if typed.count('"') % 2:
        typed = typed.replace('"', " ")  # a quote left open would swallow the quoted word
    search["q"] = " ".join(part for part in (typed, f'"{term}"') if part)
    search["generation"] = generation
    return f"{reverse('search:search')}?{search.urlencode()}"


def _kept_for(state: str) -> dict:
    """The counted words and answers kept for this index state; everything kept for another state is dropped."""
    with _lock:
        if _kept["state"] != state:
            _kept.update(state=state, terms={}, entries=0, answers=OrderedDict())
        return _kept


def forget() -> None:
    with _lock:
        _kept.update(state=None, terms={}, entries=0, answers=OrderedDict())


def own_words(query: StoryQuery, *, per_generation: int = READ_PER_GENERATION) -> OwnWords:
    """The distinctive words and phrases of each generation among the public stories the query matches."""
    backend = get_search_backend()
    plain = dataclasses.replace(query, page=1, page_size=20, sort="relevance")
    texts = backend.texts_to_read(plain, per_generation=per_generation)
    kept = _kept_for(texts.state) if texts.state else None
    key = (plain, per_generation)
    if kept is not None and (answer := kept["answers"].get(key)) is not None:
        return dataclasses.replace(answer, query=query)
    with _lock:
        terms = {pk: kept["terms"][pk] for pk in texts.read if pk in kept["terms"]} if kept is not None else {}
    missing = [story_id for story_id in texts.read if story_id not in terms]
    if missing:
        # Only the stories the rule still allows come back; the others are left out of this answer altogether.
        passages = backend.story_passages(missing)
        fresh = {story_id: story_terms(found) for story_id, found in passages.items()}
        terms.update(fresh)
        if kept is not None:
            with _lock:
                if _kept["state"] == texts.state:
                    for story_id, counted in fresh.items():
                        if _kept["entries"] + len(counted) > KEPT_ENTRIES:
                            break
                        _kept["terms"][story_id] = counted
                        _kept["entries"] += len(counted)
    answer = compare_generations(
        query, texts, {story_id: terms[story_id] for story_id in texts.read if story_id in terms}
    )
    answer.per_generation = per_generation
    if kept is not None:
        with _lock:
            if _kept["state"] == texts.state:
                _kept["answers"][key] = answer
                while len(_kept["answers"]) > KEPT_ANSWERS:
                    _kept["answers"].popitem(last=False)
    return answer


def compare_generations(query: StoryQuery, texts: StoryTexts, terms: dict[int, Counter]) -> OwnWords:
    """Each generation's words against the rest's, over the stories read (`terms`: story id -> its counted words).
    Words and phrases are compared apart, each against the counts of their own kind."""
    vocabulary = {}
    story_ids = list(terms)
    rows, columns, times = [], [], []
    for row, story_id in enumerate(story_ids):
        counted = terms[story_id]
        rows.append(np.full(len(counted), row, dtype=np.int64))
        columns.append(np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in counted), dtype=np.int64))
        times.append(np.fromiter(counted.values(), dtype=np.float64, count=len(counted)))
    rows, columns, times = (np.concatenate(parts) if parts else np.empty(0) for parts in (rows, columns, times))
    rows, columns = rows.astype(np.int64), columns.astype(np.int64)
    spelled = np.array(sorted(vocabulary, key=vocabulary.get), dtype=object)
    size = len(spelled)
    kinds = {
        "words": np.flatnonzero([" " not in term for term in spelled]),
        "phrases": np.flatnonzero([" " in term for term in spelled]),
    }
    everything = np.bincount(columns, weights=times, minlength=size)

    generations = []
    present = [slug for slug in texts.stories if slug != NOT_SHARED.slug]
    for slug in sorted(present, key=lambda s: (GENERATION_ORDER.get(s, 99), s)):
        label = GENERATIONS_BY_SLUG[slug].label if slug in GENERATIONS_BY_SLUG else slug
        holding = np.fromiter((slug in texts.read[pk] for pk in story_ids), dtype=bool, count=len(story_ids))
        generation = GenerationWords(slug=slug, label=label, stories=texts.stories[slug], read=int(holding.sum()))
        generations.append(generation)
        if generation.suppressed:
            generation.withheld = (
                f"Fewer than {THRESHOLD} of the stories these filters match are told by {label}, so their words are "
                "not shown."
            )
            continue
        if holding.all():
            generation.withheld = (
                f"Every story these filters match is told by {label} (alone or with others), so there is no rest "
                "to compare their words with."
            )
            continue
        theirs = holding[rows]
        group = np.bincount(columns[theirs], weights=times[theirs], minlength=size)
        saying = np.bincount(columns[theirs], minlength=size)
        for kind, shown, target in (
            ("words", WORDS_SHOWN, generation.words),
            ("phrases", PHRASES_SHOWN, generation.phrases),
        ):
            among = kinds[kind]
            z = fightin_words(group[among], everything[among] - group[among], PRIOR_WEIGHT * everything[among])
            chosen = np.flatnonzero((saying[among] >= THRESHOLD) & (z > DISTINCTIVE_Z))
            # Most distinctive first; equal scores in alphabetical order, so every backend lists them alike.
            order = sorted(chosen.tolist(), key=lambda n: (-round(float(z[n]), 9), spelled[among[n]]))[:shown]
            target.extend(
                Term(text=spelled[among[n]], z=round(float(z[n]), 2), stories=int(saying[among[n]])) for n in order
            )
        if not generation.words and not generation.phrases:
            generation.withheld = (
                f"No word said in {THRESHOLD} or more of their stories stands out for {label} against the rest."
            )
    return OwnWords(query=query, generations=generations, stories_read=len(story_ids))
