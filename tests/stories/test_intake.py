"""Sharing a story through an invite link: the form, consent, review, the manage link and its e-mail."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from wagtail.models import WorkflowState

from stories.models import Consent, Invite, StoryMedia, StoryPage, StorySubmission, Visibility

from .test_intake_support import SPEECH_WAV, fresh_rate_limits, make_invite, manage_token_from, share_data, share_url  # noqa: F401


def test_the_share_form_shows_the_full_consent_text(client):
    invite = make_invite()
    page = client.get(share_url(invite))
    assert page.status_code == 200
    text = page.content.decode()
    assert "You can take your story back at any time" in text
    assert "Anyone under 18 needs a parent or guardian" in text
    assert page["Cache-Control"] == "private, no-store"
    assert 'name="csrfmiddlewaretoken"' in text


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_invite(expires_at=timezone.now() - datetime.timedelta(minutes=1)),
        lambda: make_invite(max_uses=0),
        lambda: make_invite(revoked=True) if False else Invite.objects.filter(pk=make_invite().pk).update(revoked=True),
    ],
    ids=["expired", "used-up", "revoked"],
)
def test_an_unusable_invite_gets_a_friendly_page(client, make):
    make()
    invite = Invite.objects.get()
    page = client.get(share_url(invite))
    assert page.status_code == 404
    assert "This sharing link is not open" in page.content.decode()
    assert "Traceback" not in page.content.decode()


def test_an_unknown_token_gets_the_same_friendly_page(client):
    page = client.get(reverse("stories:share", args=["not-a-real-token"]))
    assert page.status_code == 404
    assert "ask the facilitator who gave you the link" in page.content.decode()


def test_a_written_story_becomes_a_draft_in_review_with_online_consent(client):
    invite = make_invite()
    response = client.post(share_url(invite), share_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    story = StoryPage.objects.get(title="The garden on Elm Street")
    assert not story.live
    assert story.community == invite.community
    assert story.get_parent().specific_class.__name__ == "StoryIndexPage"
    assert not story.is_visible_to_public()
    state = WorkflowState.objects.for_instance(story).get()
    assert state.workflow.name == "Facilitator review"
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    consent = Consent.objects.get(story=story)
    assert consent.method == Consent.Method.ONLINE_FORM
    assert consent.scope == Consent.Scope.PUBLIC
    assert consent.person.display_name == "Grandma Rose"
    assert "take your story back" in StorySubmission.objects.get(story=story).consent_wording
    assert Invite.objects.get().use_count == 1
    assert [t.slug for t in story.themes.all()] == ["thriving-natural-world"]


def test_a_story_goes_public_only_after_a_facilitator_publishes_it(client, facilitator):
    client.post(share_url(make_invite()), share_data())
    story = StoryPage.objects.get(title="The garden on Elm Street")
    assert not StoryPage.objects.visible_to_public().exists()
    state = WorkflowState.objects.for_instance(story).get()
    state.current_task_state.task.specific.on_action(state.current_task_state, facilitator, "approve")
    story.refresh_from_db()
    assert story.live
    assert story.is_visible_to_public()


def test_a_recorded_story_keeps_the_file_privately_under_a_uuid_name(client):
    upload = SimpleUploadedFile("../../etc/passwd<b>.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    response = client.post(share_url(make_invite()), share_data(text="", recording=upload))
    assert response.status_code == 302
    media = StoryMedia.objects.get()
    assert media.original_filename == "passwd<b>.wav"
    assert media.file.name == f"recordings/{media.id.hex[:2]}/{media.id.hex}/original.wav"
    assert media.stories.get().title == "The garden on Elm Street"


def test_a_minor_needs_a_guardians_name_and_agreement(client):
    invite = make_invite()
    data = share_data(**{"storytellers-0-display_name": "Maya", "storytellers-0-birth_year": "2012"})
    refused = client.post(share_url(invite), data)
    assert refused.status_code == 400
    assert "needs a parent or guardian to agree" in refused.content.decode()
    assert not StoryPage.objects.filter(title="The garden on Elm Street").exists()

    data.update({"storytellers-0-guardian_name": "Ana Lopez", "storytellers-0-guardian_agrees": "on"})
    assert client.post(share_url(invite), data).status_code == 302
    consent = Consent.objects.get(person__display_name="Maya")
    assert consent.guardian_name == "Ana Lopez"
    assert consent.guardian_consented_on == timezone.localdate()


def test_ticking_under_18_without_a_birth_year_still_asks_for_a_guardian(client):
    data = share_data(**{"storytellers-0-birth_year": "", "storytellers-0-under_18": "on"})
    assert client.post(share_url(make_invite()), data).status_code == 400
    assert not StoryPage.objects.filter(title="The garden on Elm Street").exists()


def test_research_only_consent_keeps_the_story_for_facilitators(client):
    client.post(share_url(make_invite()), share_data(consent_scope="research"))
    story = StoryPage.objects.get(title="The garden on Elm Street")
    assert story.visibility == Visibility.FACILITATORS
    assert Consent.objects.get(story=story).scope == Consent.Scope.RESEARCH


def test_the_form_needs_a_recording_or_written_text_and_consent(client):
    invite = make_invite()
    assert client.post(share_url(invite), share_data(text="")).status_code == 400
    assert client.post(share_url(invite), share_data(consent=None)).status_code == 400
    assert not StoryPage.objects.filter(title="The garden on Elm Street").exists()


@pytest.mark.parametrize("backend", ["development", "console"])
def test_in_development_the_manage_link_is_mailed_to_a_file_and_never_printed(
    backend, client, settings, tmp_path, capsys, django_capture_on_commit_callbacks
):
    from storyarchive.settings import dev

    settings.EMAIL_BACKEND = (
        dev.EMAIL_BACKEND if backend == "development" else "django.core.mail.backends.console.EmailBackend"
    )
    settings.EMAIL_FILE_PATH = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        client.post(share_url(make_invite()), share_data(email="rose@example.org"))
    token = manage_token_from(client)
    printed = capsys.readouterr()

    if backend == "console":
        assert token in printed.out, "control: the console backend prints the private link"
        return
    assert token not in printed.out + printed.err
    [written] = list(tmp_path.iterdir())
    assert f"/my-story/{token}/" in written.read_text()


def test_the_manage_link_is_shown_once_and_emailed(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(share_url(make_invite()), share_data(email="rose@example.org"))
    token = manage_token_from(client)
    again = client.get(reverse("stories:share-sent")).content.decode()
    assert token not in again
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rose@example.org"]
    assert f"/my-story/{token}/" in mail.outbox[0].body
    # Only a digest is stored: the token itself is nowhere in the database.
    assert not StorySubmission.objects.filter(manage_token_digest=token).exists()
    page = client.get(reverse("stories:my-story", args=[token]))
    assert page.status_code == 200
    assert "A facilitator will listen to it" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"


def test_without_an_email_nothing_is_sent(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(share_url(make_invite()), share_data())
    assert mail.outbox == []


def test_a_used_up_invite_refuses_the_next_story(client):
    invite = make_invite(max_uses=1)
    assert client.post(share_url(invite), share_data()).status_code == 302
    second = client.post(share_url(invite), share_data(title="Another"))
    assert second.status_code == 404
    assert "This sharing link is not open" in second.content.decode()
    assert not StoryPage.objects.filter(title="Another").exists()


def test_a_correction_note_reaches_the_facilitators(client):
    client.post(share_url(make_invite()), share_data())
    token = manage_token_from(client)
    page = client.post(reverse("stories:my-story", args=[token]), {"action": "correction", "note": "Rose, not Rosa."})
    assert "A facilitator will read your note" in page.content.decode()
    story = StoryPage.objects.get(title="The garden on Elm Street")
    assert story.correction_requests.get().note == "Rose, not Rosa."


def test_the_storyteller_downloads_their_own_recording(client):
    upload = SimpleUploadedFile("grandma.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    client.post(share_url(make_invite()), share_data(text="", recording=upload))
    token = manage_token_from(client)
    download = client.get(reverse("stories:my-story-recording", args=[token]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == SPEECH_WAV.read_bytes()
    assert download["Cache-Control"] == "private, no-store"
    assert "attachment" in download["Content-Disposition"]


def test_an_unknown_manage_token_gets_a_friendly_page(client):
    page = client.get(reverse("stories:my-story", args=["nope"]))
    assert page.status_code == 404
    assert "We could not find this story" in page.content.decode()


# The limits count per clock hour: freeze the clock so a test never straddles the turn of an hour.
MID_HOUR = datetime.datetime(2026, 11, 27, 10, 30, tzinfo=datetime.UTC)


@time_machine.travel(MID_HOUR, tick=False)
def test_share_posts_are_rate_limited_per_client_address(client, settings):
    settings.STORY_SHARE_RATE_LIMITS = {"address": 2, "invite": 100}
    invite = make_invite(max_uses=10)
    for n in range(2):
        assert client.post(share_url(invite), share_data(title=f"Story {n}")).status_code == 302
    third = client.post(share_url(invite), share_data(title="Story 3"))
    assert third.status_code == 429
    assert not StoryPage.objects.filter(title="Story 3").exists()


@time_machine.travel(MID_HOUR, tick=False)
def test_share_posts_are_rate_limited_per_invite(client, settings):
    settings.STORY_SHARE_RATE_LIMITS = {"address": 100, "invite": 1}
    invite = make_invite(max_uses=10)
    assert client.post(share_url(invite), share_data(), REMOTE_ADDR="10.0.0.1").status_code == 302
    other = client.post(share_url(invite), share_data(title="Other"), REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 429


@time_machine.travel(MID_HOUR, tick=False)
def test_a_client_over_its_own_limit_does_not_use_up_its_communitys_invite(client, settings):
    settings.STORY_SHARE_RATE_LIMITS = {"address": 2, "invite": 5}
    invite = make_invite(max_uses=20)
    answers = [
        client.post(share_url(invite), share_data(title=f"Flood {n}"), REMOTE_ADDR="10.0.0.9") for n in range(12)
    ]
    assert [a.status_code for a in answers].count(429) == 10, "control: the flooding client is refused"

    neighbour = client.post(share_url(invite), share_data(title="A neighbour's story"), REMOTE_ADDR="10.0.0.2")

    assert neighbour.status_code == 302
    assert StoryPage.objects.filter(title="A neighbour's story").exists()


@time_machine.travel(MID_HOUR, tick=False)
def test_a_forged_forwarded_header_does_not_escape_the_limit(client, settings):
    """Straight to the web server, X-Forwarded-For is the client's own invention and is ignored; through the trusted
    proxy, only the address the proxy appended counts, whatever the client put before it."""
    settings.STORY_SHARE_RATE_LIMITS = {"manage": 2}
    settings.STORY_TRUSTED_PROXIES = ["127.0.0.1"]

    def guess(n, **meta):
        return client.get(reverse("stories:my-story", args=[f"guess-{n}"]), **meta).status_code

    direct = [guess(n, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(4)]
    assert direct.count(429) == 2, "a direct client cannot pose as many"
    forged = [guess(n, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 192.0.2.1") for n in range(4)]
    assert forged.count(429) == 2, "through the proxy, the address it saw is the one counted"
    assert guess(9, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.2") != 429, "control: another client is not"


def test_csrf_is_enforced_on_the_share_form():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(share_url(make_invite()), share_data())
    assert response.status_code == 403
    assert not StoryPage.objects.filter(title="The garden on Elm Street").exists()


def test_a_facilitator_makes_an_invite_link_and_sees_consent_records(client, facilitator):
    from stories.factories import CommunityFactory

    client.force_login(facilitator)
    community = CommunityFactory(name="Lakeside")
    response = client.post(
        reverse("wagtailsnippets_stories_invite:add"),
        {"community": community.pk, "label": "Lakeside elders", "expires_at": "2099-01-01 10:00", "max_uses": "3"},
    )
    assert response.status_code == 302
    invite = Invite.objects.get()
    assert invite.created_by == facilitator
    assert client.get(reverse("wagtailsnippets_stories_consent:list")).status_code == 200
    assert client.get(reverse("wagtailsnippets_stories_correctionrequest:list")).status_code == 200
    assert client.get(reverse("wagtailsnippets_stories_withdrawal:list")).status_code == 200
    # The audit trail is read-only, even for facilitators.
    assert client.get(reverse("wagtailsnippets_stories_withdrawal:add")).status_code in (302, 403)


@time_machine.travel(MID_HOUR, tick=False)
def test_guessing_manage_links_is_rate_limited(client, settings):
    settings.STORY_SHARE_RATE_LIMITS = {"manage": 3}
    for n in range(3):
        assert client.get(reverse("stories:my-story", args=[f"guess-{n}"])).status_code == 404
    assert client.get(reverse("stories:my-story", args=["guess-4"])).status_code == 429
