"""In their own words (/insights/words/ and /api/insights/words): the words and phrases most distinctive of each
generation in a crafted archive, never a stop word, each a search that lands on its moments; and, over an archive
larger than a page of search results, never a word of a story the visibility rule hides."""

import math
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.utils import timezone

from insights.words import fightin_words, forget, story_terms
from search.analysis import is_stop_word
from search.selectors import story_for_index
from search.services import search_index_rebuild
from stories.models import Consent, StoryPage
from tests.live_cluster import BOTH_BACKENDS, search_backend

from .conftest import BOOMER, GEN_Z, PLANTED, SHARED_LINES, build_words_archive, told

FEWER = "fewer than 5"


@pytest.fixture
def words_archive():
    forget()
    return build_words_archive()


def generation(answer: dict, slug: str) -> dict:
    return next(g for g in answer["generations"] if g["generation"] == slug)


def listed(answer: dict, slug: str) -> list[str]:
    found = generation(answer, slug)
    return [term["text"] for term in found["words"] + found["phrases"]]


def every_term(answer: dict) -> set[str]:
    return {term["text"] for g in answer["generations"] for term in g["words"] + g["phrases"]}


# The formula ---------------------------------------------------------------------------------------------------------


def test_the_log_odds_z_score_is_the_papers_formula():
    """Monroe, Colaresi and Quinn (2008), eq. 16 and 18-20, worked by hand for one word."""
    group, rest, prior = np.array([12.0, 3.0, 5.0]), np.array([1.0, 9.0, 5.0]), np.array([1.3, 1.2, 1.0])
    z = fightin_words(group, rest, prior)
    a0, ni, nj = prior.sum(), group.sum(), rest.sum()
    delta = math.log((12 + 1.3) / (ni + a0 - 12 - 1.3)) - math.log((1 + 1.3) / (nj + a0 - 1 - 1.3))
    assert z[0] == pytest.approx(delta / math.sqrt(1 / (12 + 1.3) + 1 / (1 + 1.3)))
    assert z[0] > 0 > z[1], "the group's own word scores above zero, the rest's below"
    # Swapping the two sides turns every score round.
    assert fightin_words(rest, group, prior) == pytest.approx(-z)


def test_a_story_counts_its_words_and_side_by_side_phrases_without_stop_words_or_numbers():
    counted = story_terms(["We rode the streetcar; the victory garden fed us in 1948.", "Victory garden!"])
    assert counted["victory garden"] == 2
    assert counted["streetcar"] == 1
    assert "the" not in counted and "we" not in counted
    assert "rode streetcar" not in counted, "a phrase is two words side by side, never across a stop word"
    assert "1948" not in counted, "numbers (birth years among them) are never words"
    assert "garden victory" not in counted, "a phrase never spans two passages"


# The crafted archive -------------------------------------------------------------------------------------------------


def test_the_planted_words_lead_each_generation_and_no_stop_word_appears(client, words_archive):
    answer = client.get("/api/insights/words").json()
    assert [g["generation"] for g in answer["generations"]] == ["boomers", "gen-x", "gen-z"]
    for slug, planted in PLANTED.items():
        found = generation(answer, slug)
        words = [term["text"] for term in found["words"]]
        assert set(words[: len(planted["words"])]) == planted["words"], f"{slug} leads with {words}"
        assert [term["text"] for term in found["phrases"]][: len(planted["phrases"])] == planted["phrases"]
        assert all(term["stories"] >= 5 and term["z"] > 1.96 for term in found["words"] + found["phrases"])
    terms = every_term(answer)
    assert not [word for term in terms for word in term.split() if is_stop_word(word)], "a stop word appears"
    assert "zeppelin" not in terms, "a word one storyteller says thirty times leads a list"
    shared = {word.lower().strip(".,") for line in SHARED_LINES for word in line.split()}
    assert not terms & shared, "a word every generation says is called distinctive"
    # Boomers say "the" and "and" far more than anyone: still never listed.
    assert "the" not in listed(answer, "boomers")


def test_a_generation_with_fewer_than_5_stories_shows_no_words_and_says_why(client, words_archive):
    answer = client.get("/api/insights/words").json()
    middle = generation(answer, "gen-x")
    assert middle["suppressed"] is True
    assert middle["words"] == [] and middle["phrases"] == []
    assert FEWER in middle["withheld"].lower()
    assert "arcade" not in every_term(answer)
    page = client.get("/insights/words/").content.decode()
    assert "Fewer than 5 of the stories these filters match are told by Gen X" in page


def test_each_word_is_a_search_with_the_same_filters_that_lands_on_its_moments(client, words_archive):
    answer = client.get("/api/insights/words", {"theme": "humane-housing"}).json()
    term = generation(answer, "boomers")["phrases"][0]
    assert term["text"] == "victory garden"
    address = urlsplit(term["search"])
    assert address.path == "/search/"
    assert parse_qs(address.query) == {
        "q": ['"victory garden"'],
        "theme": ["humane-housing"],
        "generation": ["boomers"],
    }
    landed = client.get(f"{address.path}?{address.query}").content.decode()
    assert "Elder 0" in landed
    assert "<mark>victory</mark> <mark>garden</mark>" in landed or "<mark>victory garden</mark>" in landed
    assert "?t=10" in landed or "t=10" in landed, "the result opens the story at the moment it is said"


def test_filters_narrow_the_words_and_an_unknown_value_is_a_400(client, words_archive):
    answer = client.get("/api/insights/words", {"generation": "gen-z"}).json()
    only = generation(answer, "gen-z")
    assert only["words"] == [] and "no rest to compare" in only["withheld"]
    response = client.get("/api/insights/words", {"theme": "no-such-theme"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["query", "theme"]
    assert client.get("/insights/words/", {"recorded_from": "yesterday"}).status_code == 400


def test_the_page_lists_each_generations_words_as_links_with_a_summary(client, words_archive):
    page = client.get("/insights/words/", {"theme": "humane-housing"}).content.decode()
    assert "<h1>In their own words</h1>" in page
    assert "The words that most set each generation apart" in page
    assert "/search/?theme=humane-housing&amp;q=%22streetcar%22&amp;generation=boomers" in page
    assert "Fightin" in page
    insights = client.get("/insights/", {"theme": "humane-housing"}).content.decode()
    assert 'href="/insights/words/?theme=humane-housing"' in insights, "/insights/ links the words, filters kept"


# Privacy -------------------------------------------------------------------------------------------------------------

STORIES = 24  # more than one page of search results (20)


@pytest.fixture(params=BOTH_BACKENDS)
def which_backend(request, settings):
    """The privacy tests on each backend; the Elasticsearch half needs a live cluster (tests/live_cluster.py)."""
    with search_backend(request.param, settings, "own-words"):
        yield request.param


@pytest.fixture
def lighthouse_archive(which_backend):
    """24 public stories, 12 boomers' and 12 of Gen Z; "lighthouse" is said by exactly 5 boomers' stories, the
    fewest a word may be listed for, so any one of them leaving takes it off the list."""
    forget()
    boomers = [
        told(
            f"Harbour {n}",
            BOOMER,
            [
                "The lighthouse, the lighthouse, our lighthouse." if n < 5 else "The harbour was quiet.",
                "Nets and rope.",
            ],
        )
        for n in range(12)
    ]
    youth = [told(f"Phone {n}", GEN_Z, ["My phone buzzed all night.", "Streaming music."]) for n in range(12)]
    search_index_rebuild()
    return boomers, youth


def test_a_withdrawn_storys_words_leave_at_once_even_when_the_answer_was_kept(client, lighthouse_archive):
    boomers, _youth = lighthouse_archive
    before = client.get("/api/insights/words").json()
    # The control: with all five stories public the word is listed, so the check below can fail.
    assert "lighthouse" in listed(before, "boomers")
    assert client.get("/api/insights/words").json() == before  # kept, and given again
    consent = Consent.objects.filter(story=boomers[0]).first()
    consent.withdrawn_at = timezone.now()
    consent.save()
    assert not StoryPage.objects.visible_to_public().filter(pk=boomers[0].pk).exists()
    after = client.get("/api/insights/words").json()
    assert "lighthouse" not in every_term(after), "a withdrawn story's words are still counted"
    assert "lighthouse" not in client.get("/insights/words/").content.decode()


def test_hidden_stories_words_never_appear(client, lighthouse_archive):
    """Five more stories saying "beacon" as the five public ones say "lighthouse", each hidden in one of three ways,
    never make it a word of the archive."""
    boomers, _youth = lighthouse_archive
    hidden = [told(f"Beacon {n}", BOOMER, ["The beacon, the beacon, our beacon."]) for n in range(5)]
    StoryPage.objects.filter(pk=hidden[0].pk).update(visibility="private")
    StoryPage.objects.filter(pk=hidden[1].pk).update(embargo_until=timezone.localdate() + timezone.timedelta(days=30))
    Consent.objects.filter(story__in=hidden[2:]).update(withdrawn_at=timezone.now())
    search_index_rebuild()
    forget()
    answer = client.get("/api/insights/words").json()
    assert "lighthouse" in every_term(answer), "the control: five public stories' word is listed"
    assert "beacon" not in every_term(answer)
    assert_own_words_follow_the_rule(
        client,
        set(StoryPage.objects.visible_to_public().values_list("pk", flat=True)),
        {story.pk: story.url for story in StoryPage.objects.all()},
    )


def assert_own_words_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """/api/insights/words and /insights/words/ give only words the stories the rule allows say: each word listed for
    a generation is said in at least as many of that generation's allowed stories as the answer says (a hidden
    story's words would raise the count past them), and in 5 or more; a generation shows words only with 5 or more
    allowed stories; no stop word. expected: the story ids the rule allows."""
    answer = client.get("/api/insights/words").json()
    saying = {}  # generation -> word -> allowed stories saying it
    told_by = {}  # generation -> allowed stories
    for story in StoryPage.objects.filter(pk__in=expected):
        indexed = story_for_index(story)
        terms = story_terms([indexed.body, *(segment.text for segment in indexed.segments)])
        for slug, _label in indexed.generations:
            told_by[slug] = told_by.get(slug, 0) + 1
            for term in terms:
                saying.setdefault(slug, {}).setdefault(term, 0)
                saying[slug][term] += 1
    page = client.get("/insights/words/").content.decode()
    for found in answer["generations"]:
        slug = found["generation"]
        allowed = told_by.get(slug, 0)
        assert found["suppressed"] == (allowed < 5), f"{slug}: {allowed} allowed stories"
        for term in found["words"] + found["phrases"]:
            assert allowed >= 5, f"{slug} shows words with {allowed} allowed stories"
            said_in = saying.get(slug, {}).get(term["text"], 0)
            assert term["stories"] <= said_in, f"“{term['text']}” counted in a story the rule hides"
            assert said_in >= 5, f"“{term['text']}” is said in {said_in} allowed stories of {slug}"
            assert not any(is_stop_word(word) for word in term["text"].split()), term["text"]
            assert term["text"] in page, f"the page and the API differ on “{term['text']}”"
    assert {g["generation"] for g in answer["generations"]} <= set(told_by), "a generation with no allowed story"


def test_control_the_check_fails_when_a_hidden_storys_words_count(client, lighthouse_archive):
    """Were one of the five "lighthouse" stories hidden while its words still counted, the check would say so."""
    boomers, _youth = lighthouse_archive
    public = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    assert_own_words_follow_the_rule(client, public, {})
    with pytest.raises(AssertionError, match="rule hides"):
        assert_own_words_follow_the_rule(client, public - {boomers[0].pk}, {})


def test_the_schema_documents_the_words(client, db):
    schemas = client.get("/api/openapi.json").json()
    assert "/api/insights/words" in schemas["paths"]
    generation_out = schemas["components"]["schemas"]["GenerationWordsOut"]
    assert {"generation", "label", "suppressed", "sampled", "words", "phrases", "withheld"} <= set(
        generation_out["properties"]
    )
    assert set(schemas["components"]["schemas"]["TermOut"]["properties"]) == {"text", "z", "stories", "search"}


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00"},
        {"q": '"' * 5000},
        {"q": "<script>alert(1)</script>"},
        {"recorded_from": "9" * 40},
        {"intergenerational": "maybe"},
        {"theme": ["humane-housing"] * 200},
    ],
)
def test_hostile_parameters_get_a_clear_answer_never_an_error_page(client, words_archive, params):
    for address in ("/api/insights/words", "/insights/words/"):
        response = client.get(address, params)
        assert response.status_code in (200, 400, 422), (address, params, response.status_code)
        if response["Content-Type"].startswith("text/html"):
            assert "<script>alert" not in response.content.decode()


def test_while_search_cannot_be_reached_the_words_say_so_and_ask_to_retry(client, settings, db):
    from search.backends import _backend_for

    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    _backend_for.cache_clear()
    try:
        for address in ("/api/insights/words", "/insights/words/"):
            response = client.get(address)
            assert response.status_code == 503, address
            assert response["Retry-After"] == "60"
            assert "try again" in response.content.decode()
    finally:
        _backend_for.cache_clear()
