"""Impossible values are refused with a message that says what is wrong."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from stories.factories import PersonFactory, StoryPageFactory
from stories.generations import could_be_minor, generation_for
from stories.models import Consent, Person


@pytest.mark.parametrize(
    "birth_year, message",
    [(datetime.date.today().year + 1, "cannot be in the future"), (1850, "more than 120 years back")],
)
def test_impossible_birth_year_is_refused(birth_year, message):
    person = Person(display_name="Rosa M.", birth_year=birth_year)
    with pytest.raises(ValidationError, match=message):
        person.full_clean()


def test_embargo_before_the_recording_date_is_refused():
    story = StoryPageFactory(recorded_on=datetime.date(2026, 5, 1))
    story.embargo_until = datetime.date(2026, 4, 1)
    with pytest.raises(ValidationError) as error:
        story.full_clean()
    assert error.value.message_dict["embargo_until"] == ["The embargo cannot end before the story was recorded."]


@pytest.mark.parametrize("code", ["zz", "english", "e1", ""])
def test_unknown_language_code_is_refused(code):
    story = StoryPageFactory()
    story.language = code
    with pytest.raises(ValidationError) as error:
        story.full_clean()
    assert "language" in error.value.message_dict


@pytest.mark.parametrize("code", ["en", "es", "es-MX", "tl", "haw", "zh-Hant"])
def test_real_language_codes_are_accepted(code):
    story = StoryPageFactory()
    story.language = code
    story.full_clean()


def test_guardian_consent_needs_both_name_and_date():
    consent = Consent(
        story=StoryPageFactory(), person=PersonFactory(), given_by="Parent", method="signed_form", guardian_name="Ana"
    )
    with pytest.raises(ValidationError, match="both the guardian's name and the date"):
        consent.full_clean()


@pytest.mark.parametrize(
    "birth_year, slug",
    [
        (None, "not-shared"),
        (1945, "silent"),
        (1946, "boomers"),
        (1964, "boomers"),
        (1965, "gen-x"),
        (1980, "gen-x"),
        (1981, "millennials"),
        (1996, "millennials"),
        (1997, "gen-z"),
        (2012, "gen-z"),
        (2013, "gen-alpha"),
    ],
)
def test_generation_follows_the_birth_year_at_each_boundary(birth_year, slug):
    assert generation_for(birth_year).slug == slug


@pytest.mark.parametrize(
    "birth_year, recorded_year, minor",
    [(2008, 2026, True), (2007, 2026, False), (1990, 2005, True), (None, 2026, False)],
)
def test_minor_status_is_derived_from_birth_year_and_recording_year(birth_year, recorded_year, minor):
    assert could_be_minor(birth_year, recorded_year) is minor
