"""The one rule for what the public may see, case by case."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from wagtail.models import PageViewRestriction

from stories.factories import ConsentFactory, PersonFactory, StoryPageFactory, public_story
from stories.generations import could_be_minor
from stories.models import Consent, StoryPage, Visibility
from stories.models.pages import rule_admits
from stories.selectors import shown_in_order
from stories.share.forms import StorytellerForm

TODAY = datetime.date(2026, 11, 27)


def visible_titles():
    return set(StoryPage.objects.visible_to_public(today=TODAY).values_list("title", flat=True))


def test_a_published_consented_public_story_is_visible():
    public_story(title="Open story")
    assert visible_titles() == {"Open story"}


def _draft():
    story = public_story(title="Hidden")
    story.unpublish()


def _facilitators_only():
    public_story(title="Hidden", visibility=Visibility.FACILITATORS)


def _private():
    public_story(title="Hidden", visibility=Visibility.PRIVATE)


def _embargoed():
    public_story(title="Hidden", embargo_until=TODAY + datetime.timedelta(days=1))


def _withdrawn_story():
    story = public_story(title="Hidden")
    StoryPage.objects.filter(pk=story.pk).update(withdrawn_at=timezone.now())


def _no_participants():
    StoryPageFactory(title="Hidden")


def _one_participant_without_consent():
    elder, youth = PersonFactory(birth_year=1948), PersonFactory(birth_year=1990)
    story = StoryPageFactory(title="Hidden", participants=[elder, youth])
    ConsentFactory(story=story, person=elder)


def _consent_withdrawn():
    story = public_story(title="Hidden")
    Consent.objects.filter(story=story).update(withdrawn_at=timezone.now())


def _research_only_consent():
    story = public_story(title="Hidden")
    Consent.objects.filter(story=story).update(scope=Consent.Scope.RESEARCH)


def _minor_without_guardian():
    minor = PersonFactory(birth_year=2012)
    story = StoryPageFactory(title="Hidden", participants=[minor], recorded_on=datetime.date(2026, 5, 1))
    ConsentFactory(story=story, person=minor)


def _minor_with_guardian_name_but_no_date():
    minor = PersonFactory(birth_year=2012)
    story = StoryPageFactory(title="Hidden", participants=[minor])
    ConsentFactory(story=story, person=minor, guardian_name="Parent")


def _consent_for_a_different_story():
    person = PersonFactory()
    StoryPageFactory(title="Hidden", participants=[person])
    ConsentFactory(person=person)  # consent on another story does not carry over


HIDDEN_STORIES = [
    _draft,
    _facilitators_only,
    _private,
    _embargoed,
    _withdrawn_story,
    _no_participants,
    _one_participant_without_consent,
    _consent_withdrawn,
    _research_only_consent,
    _minor_without_guardian,
    _minor_with_guardian_name_but_no_date,
    _consent_for_a_different_story,
]


@pytest.mark.parametrize("make_hidden_story", HIDDEN_STORIES)
def test_story_failing_one_condition_is_hidden(make_hidden_story):
    make_hidden_story()
    assert "Hidden" not in visible_titles()


@pytest.mark.parametrize("make_hidden_story", HIDDEN_STORIES)
def test_the_rules_compiled_form_answers_as_the_rule_does(make_hidden_story):
    """Pages ask the rule through its compiled form (stories.models.pages.rule_admits): the same stories, hidden or
    shown, as the rule's queryset, over an archive of more stories than one page lists."""
    for n in range(25):
        public_story(title=f"Open {n}")
    make_hidden_story()
    every_id = list(StoryPage.objects.values_list("pk", flat=True))
    hidden = StoryPage.objects.get(title="Hidden")
    rule = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))

    assert rule_admits(every_id) == rule
    assert [story.pk for story in shown_in_order(StoryPage.objects.all(), every_id)] == [
        pk for pk in every_id if pk in rule
    ]
    assert hidden.is_visible_to_public() is (hidden.pk in rule)
    assert StoryPage.objects.get(title="Open 3").is_visible_to_public(), "control: an open story is admitted"


def test_a_view_restriction_hides_a_story_at_once_though_the_rule_was_compiled_before(client):
    """The compiled rule is kept per day and per set of view restrictions: a restriction added to the story index
    (Wagtail's "private" section) hides its stories on the next request, not the next day."""
    story = public_story(title="Behind a password")
    assert client.get(story.url).status_code == 200, "control: shown, with the rule compiled"

    PageViewRestriction.objects.create(page=story.get_parent(), restriction_type="password", password="elders")

    assert not story.is_visible_to_public()
    assert rule_admits([story.pk]) == set()


@pytest.mark.parametrize("restriction", ["password", "login"])
def test_a_story_behind_a_view_restriction_still_asks_for_its_password_or_a_login(client, restriction):
    """A story the rule admits answers Wagtail's question about view restrictions from the rule (it has none); one
    the rule hides, here by a restriction on its index, has Wagtail read them, so the visitor is asked for the
    password or sent to log in, and never shown the story."""
    story = public_story(title="Behind a door", summary="Grandmother's garden on Alder Street.")
    shown = client.get(story.url)
    assert shown.status_code == 200 and "Alder Street" in shown.content.decode(), "control: open, the story shows"

    PageViewRestriction.objects.create(page=story.get_parent(), restriction_type=restriction, password="elders")
    asked = client.get(story.url)

    if restriction == "password":
        assert asked.status_code == 200 and 'name="password"' in asked.content.decode()
    else:
        assert asked.status_code == 302 and "/_util/login/" in asked["Location"]
    assert "Alder Street" not in asked.content.decode()


def test_an_embargo_lifts_on_its_date_though_the_rule_was_compiled_the_day_before(client):
    story = public_story(title="Soon", embargo_until=datetime.date(2027, 3, 2))
    with time_machine.travel(datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert client.get(story.url).status_code == 404
    with time_machine.travel(datetime.datetime(2027, 3, 2, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert client.get(story.url).status_code == 200


def test_embargo_lifts_on_its_date():
    public_story(title="Soon", embargo_until=TODAY)
    assert "Soon" in visible_titles()


def test_minor_with_guardian_consent_is_visible():
    public_story(title="Youth voice", people=[PersonFactory(birth_year=2012)])
    assert "Youth voice" in visible_titles()


def test_minor_status_follows_the_recording_date_not_today():
    """Someone born in 1990 and recorded in 2005 was a minor then, and still needs a guardian's consent."""
    person = PersonFactory(birth_year=1990)
    story = StoryPageFactory(title="Old tape", participants=[person], recorded_on=datetime.date(2005, 6, 1))
    ConsentFactory(story=story, person=person)
    assert "Old tape" not in visible_titles()


def test_adult_without_birth_year_needs_only_their_own_consent():
    public_story(title="Quiet elder", people=[PersonFactory(birth_year=None)])
    assert "Quiet elder" in visible_titles()


@pytest.mark.parametrize(
    "recorded_on", [datetime.date(2020, 6, 1), None], ids=["recorded in 2020", "no recorded date: this year"]
)
def test_the_rule_and_could_be_minor_agree_at_the_boundary_years(recorded_on):
    """Born 17, exactly 18 or 19 years before the recording year, or no birth year: the rule's SQL hides a story
    without a guardian's consent exactly for those could_be_minor counts as possible minors (the careful side: 18)."""
    year = (recorded_on or TODAY).year
    ages = {"17": year - 17, "18": year - 18, "19": year - 19, "no birth year": None}
    for age, birth_year in ages.items():
        person = PersonFactory(birth_year=birth_year)
        story = StoryPageFactory(title=f"Aged {age}", participants=[person], recorded_on=recorded_on)
        ConsentFactory(story=story, person=person)  # their own consent, no guardian's

    hidden = {age for age in ages if f"Aged {age}" not in visible_titles()}
    assert hidden == {age for age, birth_year in ages.items() if could_be_minor(birth_year, year)}
    assert hidden == {"17", "18"}


@pytest.mark.parametrize("age", [17, 18, 19])
def test_the_share_form_asks_for_a_guardian_exactly_where_the_rule_would_hide_the_story(age):
    today = timezone.localdate()
    birth_year = today.year - age
    form = StorytellerForm(data={"display_name": "Sam", "birth_year": str(birth_year), "role": "storyteller"})
    person = PersonFactory(birth_year=birth_year)
    story = StoryPageFactory(title="Told today", participants=[person], recorded_on=None)
    ConsentFactory(story=story, person=person)
    visible = StoryPage.objects.visible_to_public(today=today).filter(pk=story.pk).exists()
    assert form.is_valid() is visible
    assert visible is (age == 19)
