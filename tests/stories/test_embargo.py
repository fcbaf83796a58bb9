"""Embargoes lift by themselves: the daily task opens published stories once their date has come."""

import datetime

import time_machine

from stories.factories import public_story
from stories.models import StoryPage
from stories.signals import story_visibility_changed
from stories.tasks import lift_embargoes

EMBARGO_END = datetime.date(2027, 3, 1)


def test_the_daily_task_opens_a_story_on_its_embargo_date(django_capture_on_commit_callbacks):
    heard = []

    def receive(sender, story_id, **kwargs):
        heard.append(story_id)

    story_visibility_changed.connect(receive, weak=False)
    try:
        with time_machine.travel(datetime.datetime(2027, 2, 28, 23, 0, tzinfo=datetime.UTC), tick=False):
            story = public_story(title="Kept until March", embargo_until=EMBARGO_END)
            with django_capture_on_commit_callbacks(execute=True):
                assert lift_embargoes.enqueue().return_value == []
            assert not StoryPage.objects.visible_to_public().filter(pk=story.pk).exists()
            assert heard == []

        with time_machine.travel(datetime.datetime(2027, 3, 1, 6, 0, tzinfo=datetime.UTC), tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                assert lift_embargoes.enqueue().return_value == [story.pk]
            story.refresh_from_db()
            assert story.embargo_until is None
            assert StoryPage.objects.visible_to_public().filter(pk=story.pk).exists()
            assert heard == [story.pk]
    finally:
        story_visibility_changed.disconnect(receive)


def test_an_embargo_date_never_publishes_a_story_nobody_approved():
    with time_machine.travel(datetime.datetime(2027, 3, 2, 6, 0, tzinfo=datetime.UTC), tick=False):
        story = public_story(title="Still a draft", embargo_until=EMBARGO_END)
        story.unpublish()
        assert lift_embargoes.enqueue().return_value == []
        story.refresh_from_db()
        assert not story.live
        assert not StoryPage.objects.visible_to_public().filter(pk=story.pk).exists()


def test_a_withdrawn_story_stays_withdrawn_after_its_embargo_date():
    with time_machine.travel(datetime.datetime(2027, 3, 2, 6, 0, tzinfo=datetime.UTC), tick=False):
        story = public_story(title="Taken back", embargo_until=EMBARGO_END)
        StoryPage.objects.filter(pk=story.pk).update(withdrawn_at=datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC))
        assert lift_embargoes.enqueue().return_value == []
        assert not StoryPage.objects.visible_to_public().filter(pk=story.pk).exists()


def test_the_cron_command_lifts_embargoes_that_have_come(capsys, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    with time_machine.travel(datetime.datetime(2027, 3, 1, 6, 0, tzinfo=datetime.UTC), tick=False):
        story = public_story(title="Kept until March", embargo_until=EMBARGO_END)
        with django_capture_on_commit_callbacks(execute=True):
            call_command("queue_daily_tasks")
        story.refresh_from_db()

    assert story.embargo_until is None
    assert "queued lift_embargoes" in capsys.readouterr().out
