"""What a story's public page says about listening, and what withdrawal leaves of its figures."""

import datetime

import pytest

from audience.models import StoryListeningDay, StoryStretchListens
from stories.factories import PersonFactory, StoryPageFactory
from stories.models import Visibility
from stories.services.withdrawal import story_withdraw

from .conftest import recording, send_beacon, stored_figures


def heard(story, times: int) -> None:
    StoryListeningDay.objects.create(story=story, day=datetime.date(2026, 6, 1), plays=times, stretches_heard=times)


def test_listened_n_times_is_shown_from_five_plays(client, heard_story):
    heard(heard_story, 5)
    page = client.get(heard_story.url).content.decode()
    assert "Listened 5 times" in page


def test_listened_n_times_is_not_shown_at_four_plays(client, heard_story):
    heard(heard_story, 4)
    page = client.get(heard_story.url).content.decode()
    assert "Listened" not in page


def test_plays_on_several_days_add_up_on_the_page(client, heard_story):
    heard(heard_story, 3)
    StoryListeningDay.objects.create(story=heard_story, day=datetime.date(2026, 6, 2), plays=4, stretches_heard=1)
    assert "Listened 7 times" in client.get(heard_story.url).content.decode()


@pytest.mark.parametrize("hidden_by", ["private", "no consent"])
def test_listened_n_times_never_appears_for_a_hidden_story(client, admin_client, heard_story, hidden_by):
    """Hidden stories 404 for the public; an editor sees the page, but no count and no beacon."""
    story = heard_story
    if hidden_by == "private":
        story.visibility = Visibility.PRIVATE
        story.save_revision().publish()
    else:
        story = StoryPageFactory(title="Not consented", recording=recording(), participants=[PersonFactory()])
    heard(story, 50)

    assert client.get(story.url).status_code == 404
    editor_view = admin_client.get(story.url)
    assert editor_view.status_code == 200
    page = editor_view.content.decode()
    assert "Listened" not in page
    assert "data-listened-url" not in page and "audience.js" not in page


def test_a_public_story_page_carries_the_beacon(client, heard_story):
    """The control for the test above: a public story's player reports to /listened."""
    page = client.get(heard_story.url).content.decode()
    assert f'data-listened-url="/listened" data-story-id="{heard_story.pk}"' in page
    assert "js/audience.js" in page


def test_withdrawal_deletes_the_storys_listening_figures(client, heard_story, django_capture_on_commit_callbacks):
    other = StoryPageFactory(title="Another", recording=recording(), participants=[PersonFactory()])
    heard(other, 9)
    send_beacon(client, {"story": heard_story.pk, "stretches": [0, 1], "play": True})
    assert stored_figures(heard_story.pk) == (1, 2, 2)

    with django_capture_on_commit_callbacks(execute=True):
        story_withdraw(story=heard_story, requested_by="storyteller")

    assert not StoryListeningDay.objects.filter(story_id=heard_story.pk).exists()
    assert not StoryStretchListens.objects.filter(story_id=heard_story.pk).exists()
    assert StoryListeningDay.objects.get(story=other).plays == 9, "another story's figures stay"
