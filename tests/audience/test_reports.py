"""The facilitators' reports in the admin: listening by story, community and month, a story's heat strip along its
transcript, and the searches that found nothing; only for people with the figures permission."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission

from audience.models import StoryListeningDay, StoryStretchListens, ZeroResultSearch
from audience.roles import grant_facilitators_figures
from stories.factories import PersonFactory, public_story
from tests.listening.conftest import transcribe

from .conftest import recording

TODAY = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC)
REPORTS = ["/admin/audience/listening/", "/admin/audience/searches/"]


@pytest.fixture
def facilitator_client(client, facilitator):
    grant_facilitators_figures()
    client.force_login(facilitator)
    return client


@pytest.fixture
def listened():
    """Two communities' stories, heard in May and June 2026."""
    bus = public_story(title="The bus at dawn", people=[PersonFactory()], community__name="Harbor Point")
    bus.recording = recording(seconds=45.0)
    bus.save()
    garden = public_story(title="The garden", people=[PersonFactory()], community__name="Riverside")
    for story, day, plays, heard in [
        (bus, datetime.date(2026, 5, 10), 3, 12),
        (bus, datetime.date(2026, 6, 10), 6, 18),
        (garden, datetime.date(2026, 6, 11), 2, 6),
        (garden, datetime.date(2025, 1, 2), 40, 40),  # older than a year
    ]:
        StoryListeningDay.objects.create(story=story, day=day, plays=plays, stretches_heard=heard)
    return {"bus": bus, "garden": garden}


@time_machine.travel(TODAY, tick=False)
def test_listening_by_story_community_and_month(facilitator_client, listened):
    page = facilitator_client.get("/admin/audience/listening/", {"period": 365}).content.decode()

    assert "Last 12 months: 11 plays, 6.0 minutes listened" in page
    assert '<th scope="row">May 2026</th><td>3</td><td>2.0</td>' in page
    assert '<th scope="row">June 2026</th><td>8</td><td>4.0</td>' in page
    assert '<th scope="row">Harbor Point</th><td>9</td><td>5.0</td>' in page
    assert '<th scope="row">Riverside</th><td>2</td><td>1.0</td>' in page
    assert f'href="/admin/audience/listening/story/{listened["bus"].pk}/">The bus at dawn</a>' in page
    assert "Plays by community and month" in page

    everything = facilitator_client.get("/admin/audience/listening/", {"period": 0}).content.decode()
    assert "All time: 51 plays" in everything
    short = facilitator_client.get("/admin/audience/listening/", {"period": 30}).content.decode()
    assert "Last 30 days: 8 plays" in short


def test_the_listening_report_links_what_waits_for_review(facilitator_client, listened):
    page = facilitator_client.get("/admin/audience/listening/").content.decode()
    assert "Submissions waiting for review: 0" in page
    assert "Transcripts failed: 0" in page
    assert "/admin/transcription/unfinished/" in page


def test_a_storys_heat_strip_follows_its_transcript(facilitator_client, listened):
    bus = listened["bus"]
    transcribe(bus.recording, [(0.0, 8.0, "We waited in the cold"), (21.0, 29.0, "the driver knew every name")])
    StoryStretchListens.objects.bulk_create(
        [StoryStretchListens(story=bus, stretch=0, listens=9), StoryStretchListens(story=bus, stretch=2, listens=4)]
    )
    page = facilitator_client.get(f"/admin/audience/listening/story/{bus.pk}/").content.decode()

    assert page.count('role="listitem"') == 5, "45 seconds are five stretches"
    assert 'aria-label="00:00: 9 listens"' in page and 'aria-label="00:20: 4 listens"' in page
    assert 'aria-label="00:10: 0 listens"' in page
    assert "<td>9</td>\n                    <td>We waited in the cold</td>" in page
    assert "<td>4</td>\n                    <td>the driver knew every name</td>" in page
    assert f'href="{bus.url}?t=20"' in page


@time_machine.travel(TODAY, tick=False)
def test_the_searches_that_found_nothing_in_the_last_90_days(facilitator_client):
    ZeroResultSearch.objects.bulk_create(
        [
            ZeroResultSearch(text="bus passes", day=datetime.date(2026, 6, 14), searches=3),
            ZeroResultSearch(text="bus passes", day=datetime.date(2026, 6, 1), searches=2),
            ZeroResultSearch(text="ferry", day=datetime.date(2026, 3, 18), searches=1),  # the 90th day back
            ZeroResultSearch(text="tram", day=datetime.date(2026, 3, 17), searches=7),  # older: not shown
        ]
    )
    page = facilitator_client.get("/admin/audience/searches/").content.decode()
    assert '<th scope="row">bus passes</th><td>5</td><td>2</td><td>14 June 2026</td>' in page
    assert '<th scope="row">ferry</th>' in page
    assert "tram" not in page


@pytest.mark.parametrize("path", [*REPORTS, "/admin/audience/listening/story/1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", REPORTS)
def test_an_admin_user_without_the_figures_permission_is_refused(client, django_user_model, listened, path):
    editor = django_user_model.objects.create_user("editor", "editor@example.org", "a-long-passphrase")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, "/admin/"), "Wagtail's refusal: back to the admin"
    assert "The bus at dawn" not in response.content.decode()
    assert "/admin/audience/" not in client.get("/admin/").content.decode(), "nor does the menu offer them"


def test_the_reports_menu_shows_the_figures_to_facilitators(facilitator_client):
    page = facilitator_client.get("/admin/").content.decode()
    assert "/admin/audience/listening/" in page
    assert "/admin/audience/searches/" in page
