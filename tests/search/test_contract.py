"""The behaviour every search backend keeps. The database half always runs; the Elasticsearch half needs a live
cluster at ELASTICSEARCH_URL and is skipped otherwise (CI starts a node with `scripts/services elasticsearch`).

Every backend gives the same hits, totals, facet counts, moments and highlighting for the same query. What may
differ, and only this: the scores, and so the order of hits ranked by relevance, including the order of equal
scores (each engine scores in its own way). So these tests compare ranked hits as sets, or where the answer holds
one story, and compare order only where no score decides it (newest, oldest)."""

import datetime

import pytest

from search.backends import get_search_backend
from search.query import MAX_PAGE, MAX_PAGE_SIZE, StoryQuery
from search.services import story_index_refresh
from stories.factories import PersonFactory, public_story, theme
from stories.models import StoryPage
from tests.live_cluster import BOTH_BACKENDS, search_backend

from .conftest import transcribe


@pytest.fixture(autouse=True, params=BOTH_BACKENDS)
def which_backend(request, settings):
    # On Elasticsearch each test fills its own index; the cluster keeps none of them.
    with search_backend(request.param, settings, "contract"):
        yield request.param


def search(**fields):
    return get_search_backend().search(StoryQuery(**fields))


def titles(results):
    return [hit.story.title for hit in results.hits]


def facet_counts(results, facet):
    return {value.value: value.count for value in results.facets[facet]}


def test_a_word_finds_the_stories_that_use_it(archive):
    assert titles(search(text="bus")) == ["Riding the number 9 bus"]


def test_stemming_finds_housing_from_houses(archive):
    assert "The house on Elm Street" in titles(search(text="houses"))


def test_spanish_stories_match_spanish_words(archive):
    assert titles(search(text="viviendas")) == ["La vivienda de mi abuela"]
    assert titles(search(text="casa")) == ["La vivienda de mi abuela"]


def test_words_match_in_any_order(archive):
    assert titles(search(text="housing safe")) == titles(search(text="safe housing"))
    assert "The house on Elm Street" in titles(search(text="housing safe"))


def test_a_quoted_phrase_needs_its_words_together(archive):
    assert titles(search(text='"safe housing"')) == ["The house on Elm Street"]
    assert titles(search(text='"housing safe"')) == []


def test_a_hit_carries_up_to_three_moments_with_times_and_highlights(archive):
    hit = search(text="housing").hits[0]
    assert hit.story.title == "The house on Elm Street"
    assert 1 <= len(hit.moments) <= 3
    first = hit.moments[0]
    assert isinstance(first.start, float)
    assert [m.start for m in hit.moments] == sorted(m.start for m in hit.moments)
    assert any(m.start == 135.0 and "<mark>housing</mark>" in m.highlighted for m in hit.moments)
    assert "<mark>" in hit.snippet
    assert hit.score > 0


def test_moments_are_the_segments_holding_most_of_the_words(archive):
    story = public_story(title="Moments", people=[PersonFactory()])
    transcribe(
        story,
        [
            (0.0, 1.0, "Housing."),
            (10.0, 11.0, "Safe housing, safe streets."),
            (20.0, 21.0, "The rent."),
            (30.0, 31.0, "Safe housing and fair rent."),
            (40.0, 41.0, "Housing and more housing."),
        ],
    )
    story_index_refresh(story_id=story.pk)
    hit = next(h for h in search(text="safe housing rent").hits if h.story.title == "Moments")
    # Three words beat two, two beat one; among one-word segments, the word said twice.
    assert [(m.start, m.end) for m in hit.moments] == [(10.0, 11.0), (30.0, 31.0), (40.0, 41.0)]


def test_only_the_current_finished_transcript_gives_moments(archive):
    story = archive["bus"]
    old = story.recording.transcripts.get()
    old.is_current = False
    old.save()
    transcribe(story, [(50.0, 55.0, "The streetcar came before the bus.")], model_name="base")
    transcribe(story, [(70.0, 75.0, "A bus of a draft transcript.")], current=False, model_name="draft")
    story_index_refresh(story_id=story.pk)
    [hit] = search(text="bus").hits
    assert [m.start for m in hit.moments] == [50.0]


def test_facets_count_stories_and_leave_out_their_own_filter(archive):
    results = search(themes=("humane-housing",))
    assert set(titles(results)) == {"The house on Elm Street", "La vivienda de mi abuela"}
    # The theme facet ignores the theme filter, so it shows what choosing another theme would give.
    assert facet_counts(results, "theme") == {
        "humane-housing": 2,
        "reliable-transportation": 1,
        "lifelong-learning": 1,
        "thriving-natural-world": 1,
    }
    # Other facets are narrowed by the theme filter.
    assert facet_counts(results, "community") == {"riverside": 1, "eastside": 1}
    assert facet_counts(results, "language") == {"en": 1, "es": 1}


def test_a_story_counts_under_every_generation_of_its_participants(archive):
    counts = facet_counts(search(), "generation")
    assert counts == {"boomers": 2, "gen-z": 2, "gen-x": 2}
    assert set(titles(search(generations=("gen-z",)))) == {"The house on Elm Street", "Riding the number 9 bus"}


def test_intergenerational_means_two_or_more_generations(archive):
    assert set(titles(search(intergenerational=True))) == {"The house on Elm Street", "La vivienda de mi abuela"}


def test_facet_labels_read_as_words(archive):
    results = search()
    assert {v.value: v.label for v in results.facets["generation"]}["boomers"] == "Baby Boomers"
    assert {v.value: v.label for v in results.facets["language"]}["es"] == "Spanish"
    assert {v.value: v.label for v in results.facets["community"]}["riverside"] == "Riverside"
    assert facet_counts(results, "kind") == {"audio": 3, "text": 1}


def test_filters_combine_across_facets(archive):
    results = search(communities=("eastside",), kinds=("text",))
    assert titles(results) == ["Letters from the garden"]
    assert facet_counts(results, "kind") == {"audio": 1, "text": 1}


def test_recorded_date_range(archive):
    results = search(recorded_from=datetime.date(2024, 1, 1), recorded_to=datetime.date(2024, 12, 31))
    assert titles(results) == ["The house on Elm Street"]


def test_sort_newest_and_oldest_by_recording_date(archive):
    newest = titles(search(sort="newest"))
    assert newest[:3] == ["Riding the number 9 bus", "The house on Elm Street", "La vivienda de mi abuela"]
    assert titles(search(sort="oldest"))[:3] == list(reversed(newest[:3]))


def test_pages_split_the_results(archive):
    first, second = search(sort="newest", page_size=2), search(sort="newest", page_size=2, page=2)
    assert first.total == second.total == 4
    assert len(first.hits) == len(second.hits) == 2
    assert not set(titles(first)) & set(titles(second))


def test_prefix_suggestions(archive):
    suggestions = get_search_backend().suggest("hou")
    assert "housing" in suggestions
    assert "houses" in suggestions
    assert all(word.startswith("hou") for word in suggestions)


@pytest.mark.parametrize(
    "typed",
    [
        "AND",
        "OR NOT",
        "NEAR(housing bus)",
        "hou*",
        '"',
        '"""',
        "^housing",
        "title:housing",
        "(housing",
        "-housing",
        "housing -",
        "!&|<->:*",
        "'",
        "\\",
        "\x00",
        '"' * 5000,
        "housing " * 2500,
        "<script>alert(1)</script>",
    ],
)
def test_no_typed_text_is_an_error(archive, typed):
    results = search(text=typed)
    assert results.total >= 0
    get_search_backend().suggest(typed)


def test_operator_words_are_plain_words(archive):
    public_story(title="Not now", summary="NOT a story about NEAR misses", people=[PersonFactory()])
    story_index_refresh(story_id=StoryPage.objects.get(title="Not now").pk)
    assert titles(search(text="NOT NEAR")) == ["Not now"]


def test_highlighting_escapes_html_from_transcripts_and_queries(archive):
    story = public_story(title="Tags", summary="<script>alert('housing')</script>", people=[PersonFactory()])
    transcribe(story, [(1.0, 2.0, "<script>alert('housing')</script> <b>bold</b>")])
    story_index_refresh(story_id=story.pk)
    hit = next(h for h in search(text="<script>housing").hits if h.story.title == "Tags")
    assert "<script" not in hit.snippet
    assert hit.snippet.startswith("&lt;<mark>script</mark>&gt;")
    assert "<script" not in hit.moments[0].highlighted
    assert "<b>" not in hit.moments[0].highlighted
    assert "<mark>housing</mark>" in hit.moments[0].highlighted


def test_a_story_that_stops_being_public_leaves_search_even_before_reindexing(archive):
    story = archive["bus"]
    StoryPage.objects.filter(pk=story.pk).update(visibility="private")
    assert search(text="bus").total == 0
    assert "bus" not in get_search_backend().suggest("bus")


def test_a_story_that_stops_being_public_is_not_counted_in_facets_either(archive):
    StoryPage.objects.filter(pk=archive["bus"].pk).update(visibility="private")
    results = search(sort="newest")
    assert results.total == 3
    assert "Riding the number 9 bus" not in titles(results)
    assert "reliable-transportation" not in facet_counts(results, "theme")
    assert facet_counts(results, "community") == {"riverside": 1, "eastside": 2}


def test_the_deepest_page_a_visitor_may_ask_for_answers(archive):
    results = search(page=MAX_PAGE, page_size=MAX_PAGE_SIZE)
    assert results.hits == []
    assert results.total == 4


def test_refresh_removes_a_story_the_public_may_no_longer_see(archive):
    story = archive["bus"]
    story.unpublish()
    assert story_index_refresh(story_id=story.pk) == "removed"
    StoryPage.objects.filter(pk=story.pk).update(live=True)  # even if it were live again without reindexing
    assert get_search_backend().status()["indexed_stories"] == 3


def test_themes_are_searchable_words(archive):
    assert "Letters from the garden" in titles(search(text="natural world"))
    assert theme("thriving-natural-world").name == "Thriving natural world"


# Insights -----------------------------------------------------------------------------------------------------------


def insights(**fields):
    return get_search_backend().insights(StoryQuery(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"themes": ("humane-housing",)},
        {"text": "housing"},
        {"intergenerational": True},
        {"communities": ("eastside",), "kinds": ("text",)},
        {"recorded_from": datetime.date(2024, 1, 1)},
    ],
)
def test_insights_count_the_stories_search_finds(archive, fields):
    figures, results = insights(**fields), search(**fields)
    assert figures.total.stories == results.total
    for facet in ("theme", "generation", "community", "language", "kind"):
        if not results.query.selected(facet):  # a facet's own filter is left out of its search counts
            assert {value: tally.stories for value, tally in figures.by[facet].items()} == facet_counts(results, facet)


def test_insights_cross_theme_with_generation_and_quarter_the_recording_dates(archive):
    figures = insights()
    assert {pair: tally.stories for pair, tally in figures.crossed[("theme", "generation")].items()} == {
        ("humane-housing", "boomers"): 2,
        ("humane-housing", "gen-z"): 1,
        ("humane-housing", "gen-x"): 1,
        ("reliable-transportation", "gen-z"): 1,
        ("lifelong-learning", "gen-z"): 1,
        ("thriving-natural-world", "gen-x"): 1,
    }
    assert {value: tally.stories for value, tally in figures.by["quarter"].items()} == {
        "2023-Q1": 1,
        "2024-Q1": 1,
        "2025-Q2": 1,
        "no-date": 1,
    }
    assert figures.intergenerational.stories == 2


def test_insights_leave_out_a_story_hidden_through_its_consent(archive):
    from django.utils import timezone

    consent = archive["bus"].consents.first()
    consent.withdrawn_at = timezone.now()
    consent.save()
    figures = insights()
    assert figures.total.stories == 3
    assert "reliable-transportation" not in figures.by["theme"]


# Insights: in their own words ----------------------------------------------------------------------------------------


def test_insights_own_words_put_the_planted_words_first_for_each_generation_and_never_a_stop_word():
    """Both backends read the same stories' words, so they give the same lists and scores, to the hundredth."""
    from insights.words import forget, own_words
    from search.analysis import is_stop_word
    from tests.insights.conftest import PLANTED, build_words_archive

    forget()
    build_words_archive()
    found = {g.slug: g for g in own_words(StoryQuery()).generations}
    assert list(found) == ["boomers", "gen-x", "gen-z"]
    assert found["gen-x"].suppressed and not found["gen-x"].words
    for slug, planted in PLANTED.items():
        words = [term.text for term in found[slug].words]
        assert set(words[: len(planted["words"])]) == planted["words"]
        assert [term.text for term in found[slug].phrases][: len(planted["phrases"])] == planted["phrases"]
    assert [(t.text, t.z, t.stories) for t in found["boomers"].words] == [
        ("garden", 2.62, 6),
        ("streetcar", 2.62, 6),
        ("victory", 2.62, 6),
    ]
    assert [(t.text, t.z) for t in found["gen-z"].phrases] == [("climate strike", 5.03)]
    every = [word for g in found.values() for term in g.words + g.phrases for word in term.text.split()]
    assert every and not [word for word in every if is_stop_word(word)]


def test_insights_own_words_leave_out_a_story_hidden_through_its_consent():
    from django.utils import timezone

    from insights.words import forget, own_words
    from tests.insights.conftest import build_words_archive

    forget()
    stories = build_words_archive()
    assert "streetcar" in [t.text for t in own_words(StoryQuery()).generations[0].words]
    consent = stories["boomers"][0].consents.first()
    consent.withdrawn_at = timezone.now()
    consent.save()
    boomers = next(g for g in own_words(StoryQuery()).generations if g.slug == "boomers")
    assert boomers.read == 5
    assert all(term.stories <= 5 for term in boomers.words + boomers.phrases)
