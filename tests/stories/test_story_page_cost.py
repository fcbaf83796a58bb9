"""What a public story page asks the database: its own story asked of the rule once, related stories chosen from the
stored answer and only the ones shown asked of the rule, and a number of queries that does not grow with what
surrounds the story."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audience.models import StoryListeningDay
from stories.factories import CommunityFactory, DialogueFactory, PersonFactory, public_story, theme
from stories.models import PublicStory, StoryPage, Visibility
from stories.selectors import related_stories

from ..listening.conftest import recording, spoken_lines, transcribe

ELDER, YOUTH, MIDDLE = 1948, 2008, 1975
# The rule's test for consent: only a query that asks the rule reads the consent table on a story page.
RULE_TABLE = '"stories_consent"'


def _story(title, *, year=MIDDLE, **fields):
    story = public_story(title=title, people=[PersonFactory(birth_year=year)], **fields)
    story.save()  # themes are written when the page saves
    return story


@pytest.fixture
def neighbourhood():
    """A recorded, transcribed, twice-themed story with many public neighbours in its community and themes."""
    riverside = CommunityFactory(name="Riverside")
    themes = [theme("humane-housing"), theme("lifelong-learning")]
    story = _story("The house on Elm Street", year=ELDER, community=riverside, themes=themes, recording=recording())
    transcribe(story.recording, spoken_lines(5))
    for n in range(8):
        _story(f"Neighbour {n}", year=(YOUTH, MIDDLE, ELDER)[n % 3], community=riverside, themes=themes[n % 2 :])
    return story


def _queries(client, path):
    client.get(path)  # warm the site root cache, which every page shares
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response, [query["sql"] for query in queries.captured_queries]


def test_a_story_page_asks_the_rule_about_its_own_story_once(client, neighbourhood):
    """Served, it asks about the story; related stories ask about the ones they show; the listening figure reuses
    the first answer. The page still shows the figure and its related stories."""
    StoryListeningDay.objects.create(story=neighbourhood, day=datetime.date(2026, 6, 1), plays=7, stretches_heard=7)

    response, queries = _queries(client, neighbourhood.url)

    asked = [sql for sql in queries if RULE_TABLE in sql]
    assert len(asked) == 2
    page = response.content.decode()
    assert "Listened 7 times" in page and "Related stories" in page


def test_a_story_page_makes_a_bounded_number_of_queries(client, django_assert_max_num_queries, neighbourhood):
    """Themes, participants and related stories are read once each, not once per use (the transcript's speakers
    from the participants already read, which related stories share a theme from the rows read for each theme); the
    story's recording, community and dialogue with the story itself, found by its address without reading the story
    index on the way; its view restrictions answered by the rule."""
    neighbourhood.dialogue = DialogueFactory(title="Riverside, spring", community=neighbourhood.community)
    neighbourhood.save_revision().publish()
    client.get(neighbourhood.url)
    with django_assert_max_num_queries(19):
        page = client.get(neighbourhood.url)
    assert page.status_code == 200
    assert "Riverside, spring" in page.content.decode()


def test_the_listening_figure_of_a_page_an_editor_sees_for_a_hidden_story_is_not_counted(admin_client, neighbourhood):
    """The answer the page was served with reaches the figure: hidden, the editor sees no count and no beacon."""
    StoryListeningDay.objects.create(story=neighbourhood, day=datetime.date(2026, 6, 1), plays=50, stretches_heard=9)
    neighbourhood.visibility = Visibility.PRIVATE
    neighbourhood.save_revision().publish()

    page = admin_client.get(neighbourhood.url).content.decode()

    assert "Listened" not in page and "data-listened-url" not in page


def test_related_stories_leave_out_a_story_the_stored_answer_still_lists_but_the_rule_hides(neighbourhood):
    """The stored answer proposes, the rule decides: a story hidden behind the stored answer's back is replaced by
    the next candidate."""
    shown = related_stories(story=neighbourhood)
    assert len(shown) == 4
    hidden = shown[0]
    # Written past the receivers, as a change the stored answer has not caught up with yet.
    StoryPage.objects.filter(pk=hidden.pk).update(visibility=Visibility.PRIVATE)
    assert PublicStory.objects.get(story_id=hidden.pk).is_public, "the stored answer still lists it"

    again = related_stories(story=neighbourhood)

    assert hidden not in again
    assert len(again) == 4
    assert set(shown[1:]) <= set(again)


def test_related_stories_shown_on_the_page_leave_out_a_hidden_story_too(client, neighbourhood):
    """The control above, on the page: the story is listed among the related stories until the rule hides it."""
    first = related_stories(story=neighbourhood)[0]
    assert first.title in client.get(neighbourhood.url).content.decode()
    StoryPage.objects.filter(pk=first.pk).update(visibility=Visibility.PRIVATE)

    assert first.title not in client.get(neighbourhood.url).content.decode()
