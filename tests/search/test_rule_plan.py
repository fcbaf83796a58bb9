"""The visibility rule, asked about a page of hits, reads only those stories' rows, whatever the database's statistics
say: right after a bulk import they misjudge the archive, and a plan that hashes every participant and consent to
answer for twenty stories costs more than the whole search."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from search.backends import get_search_backend
from search.backends.hits import visible_stories, visible_story_ids
from search.query import StoryQuery
from stories.models import StoryPage
from stories.selectors import shown_in_order
from tests.stories.test_public_answer import statistics_of_a_large_archive, whole_table_scans  # noqa: F401

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")

RULE_INPUTS = ("stories_storyparticipant", "stories_consent")


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.ELASTICSEARCH_URL = ""


@pytest.fixture
def misleading_statistics(statistics_of_a_large_archive):  # noqa: F811
    """The archive's tables measured 2,000 times larger, and participants and consents with no column statistics, as
    right after a bulk import before ANALYZE: the planner guesses how many rows each story has."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = ANY(%s::regclass[])", [list(RULE_INPUTS)])


def rule_queries(run) -> list[str]:
    """The SQL of the queries `run` sends that ask the rule (they read consents)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    return [query["sql"] for query in queries.captured_queries if "stories_consent" in query["sql"]]


def scans_of_rule_inputs(sql: str) -> list[str]:
    with transaction.atomic():
        return [scan for scan in whole_table_scans(sql) if scan.split(" on ")[-1] in RULE_INPUTS]


def test_a_search_asks_the_rule_about_its_hits_by_their_ids_alone(archive, misleading_statistics):
    found = rule_queries(lambda: get_search_backend().search(StoryQuery(text="housing")))
    assert found, "the control: the search asked the rule"
    for sql in found:
        assert scans_of_rule_inputs(sql) == [], sql


def test_the_rule_for_shown_stories_and_suggested_words_reads_no_table_whole(archive, misleading_statistics):
    story_ids = list(StoryPage.objects.values_list("pk", flat=True))
    found = rule_queries(lambda: visible_stories(story_ids)) + rule_queries(lambda: visible_story_ids(story_ids))
    assert len(found) == 2
    for sql in found:
        assert whole_table_scans(sql) == [], sql


def test_the_rule_a_story_page_asks_reads_only_the_asked_stories_rows(archive, misleading_statistics):
    """A story page asks the rule's compiled form twice: of itself, and of the related stories it shows."""
    story_ids = list(StoryPage.objects.values_list("pk", flat=True))
    story = StoryPage.objects.get(pk=story_ids[0])
    found = rule_queries(lambda: shown_in_order(StoryPage.objects.all(), story_ids)) + rule_queries(
        story.is_visible_to_public
    )
    assert len(found) == 2
    for sql in found:
        assert scans_of_rule_inputs(sql) == [], sql


def test_control_the_same_statistics_mislead_the_rule_asked_about_a_list_of_ids(archive, misleading_statistics):
    """The rule's plain `pk IN (...)` under the same statistics: the planner reads participants or consents whole."""
    story_ids = list(StoryPage.objects.values_list("pk", flat=True))
    found = rule_queries(lambda: list(StoryPage.objects.visible_to_public().filter(pk__in=story_ids)))
    assert scans_of_rule_inputs(found[-1])


def test_the_rule_answers_the_same_asked_story_by_story(archive):
    housing, *others = list(StoryPage.objects.order_by("pk"))
    StoryPage.objects.filter(pk=housing.pk).update(live=False)
    story_ids = [story.pk for story in StoryPage.objects.all()]
    expected = set(StoryPage.objects.visible_to_public().filter(pk__in=story_ids).values_list("pk", flat=True))
    assert housing.pk not in expected
    assert visible_story_ids(story_ids) == expected == set(visible_stories(story_ids))
