"""/oai/ tells harvesters of public stories only: a story that stops being public becomes a deleted record (header only,
for good), and one that never was public is never named at all."""

import datetime

import pytest
import time_machine

from stories.factories import ConsentFactory, PersonFactory, StoryPageFactory, public_story
from stories.models import Consent, PublicStory, StoryPage, Visibility
from stories.services import embargo_lift, story_withdraw

from .conftest import HOST, public_ids, story_paths
from .rule_checks import OAI, ask, assert_oai_follows_the_rule, error_code, harvest, split


def get_record(client, story):
    document, body = ask(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:{HOST}:story/{story.pk}")
    return document, body.decode()


def test_a_withdrawn_story_becomes_a_deleted_record_with_no_metadata(client):
    story = public_story(title="My grandmother's kitchen", summary="She cooked for the whole street.")
    kept = public_story(title="The bus to school")
    document, body = get_record(client, story)
    assert "My grandmother's kitchen" in body, "control: the record is there while the story is public"
    before = document.findtext(f".//{OAI}datestamp")

    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)):
        story_withdraw(story=story, requested_by="storyteller")

    document, body = get_record(client, story)
    header = document.find(f"{OAI}GetRecord/{OAI}record/{OAI}header")
    assert header.get("status") == "deleted"
    assert document.find(f".//{OAI}metadata") is None
    assert header.findtext(f"{OAI}datestamp") > before, "a harvester asking from its last visit is told"
    assert "kitchen" not in body and "grandmother" not in body and "cooked" not in body
    shown, deleted = split(harvest(client, "ListRecords")[0])
    assert shown == [kept.pk] and deleted == [story.pk]
    assert_oai_follows_the_rule(client, public_ids(), story_paths())


@pytest.mark.parametrize("change", ["private", "unpublished", "consent withdrawn", "research only"])
def test_a_story_that_stops_being_public_is_deleted_for_harvesters(client, change):
    story = public_story(title="Walking the levee")
    if change == "private":
        story.visibility = Visibility.PRIVATE
        story.save()
    elif change == "unpublished":
        story.unpublish()
    elif change == "consent withdrawn":
        consent = Consent.objects.get(story=story)
        consent.withdrawn_at = datetime.datetime.now(datetime.UTC)
        consent.save()
    else:
        consent = Consent.objects.get(story=story)
        consent.scope = Consent.Scope.RESEARCH
        consent.save()

    document, body = get_record(client, story)
    assert document.find(f".//{OAI}header").get("status") == "deleted"
    assert "levee" not in body
    assert_oai_follows_the_rule(client, public_ids(), story_paths())


def test_stories_that_were_never_public_are_never_named(client):
    kept = public_story()
    child = PersonFactory(birth_year=2015)
    without_guardian = StoryPageFactory(title="A child without a guardian", participants=[child])
    ConsentFactory(story=without_guardian, person=child)
    hidden = [
        without_guardian,
        public_story(title="Kept in the family", visibility=Visibility.PRIVATE),
        public_story(title="Not until spring", embargo_until=datetime.date(2099, 3, 1)),
        StoryPageFactory(title="Nobody agreed yet", participants=[PersonFactory()]),
        StoryPageFactory(title="Still a draft", live=False),
    ]

    shown, deleted = split(harvest(client, "ListRecords")[0])
    assert shown == [kept.pk] and deleted == []
    for story in hidden:
        assert error_code(get_record(client, story)[0]) == "idDoesNotExist"
    assert_oai_follows_the_rule(client, public_ids(), story_paths())


def test_an_embargo_that_lifts_brings_the_story_to_harvesters(client, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)):
        story = public_story(title="After the flood", embargo_until=datetime.date(2026, 6, 1))
        assert error_code(get_record(client, story)[0]) == "idDoesNotExist"
    with time_machine.travel(datetime.datetime(2026, 6, 2, tzinfo=datetime.UTC)):
        with django_capture_on_commit_callbacks(execute=True):
            embargo_lift()
        document, body = get_record(client, story)
        assert error_code(document) is None and "After the flood" in body


def test_a_stale_stored_answer_is_checked_against_the_rule_and_sent_as_deleted(client):
    """The stored answer still calls a hidden story public (a write that bypassed the models): the rule, asked about
    the page's stories, hides it."""
    story = public_story(title="Changed behind the archive's back")
    StoryPage.objects.filter(pk=story.pk).update(visibility=Visibility.PRIVATE)  # no signal: the row says public
    assert PublicStory.objects.get(story_id=story.pk).is_public

    document, body = get_record(client, story)
    assert document.find(f".//{OAI}header").get("status") == "deleted"
    assert "behind the archive" not in body
    assert_oai_follows_the_rule(client, public_ids(), story_paths())


def test_control_the_leak_check_fails_when_the_endpoint_trusts_a_stale_stored_answer(client, monkeypatch):
    """Without the rule's second look, the stale row leaks the story's metadata, and the check says so."""
    story = public_story(title="Changed behind the archive's back")
    StoryPage.objects.filter(pk=story.pk).update(visibility=Visibility.PRIVATE)
    expected, paths = public_ids(), story_paths()
    monkeypatch.setattr("oai.records.StoryPage.objects.visible_to_public", lambda: StoryPage.objects.all())

    assert "behind the archive" in get_record(client, story)[1]
    with pytest.raises(AssertionError, match="rule"):
        assert_oai_follows_the_rule(client, expected, paths)
