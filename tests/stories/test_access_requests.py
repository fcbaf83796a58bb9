"""Requests for access: a story "on request" is never public; a visitor asks, its facilitators approve or decline,
and an approved request's private link plays that one story until its last day, revocation or the story's end."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from stories.factories import ConsentFactory, PersonFactory, StoryPageFactory, public_story
from stories.models import (
    AccessEvent,
    AccessRequest,
    Consent,
    StoryMedia,
    StoryPage,
    Visibility,
    private_storage,
)
from stories.services import story_withdraw
from tests.properties.test_consent_state_machine import (
    WORD,
    assert_public_paths_follow_the_rule,
    build_archive,
    story_paths,
)
from tests.responses import body_text
from tests.stories.access_rule_checks import assert_on_request_follows_the_rule
from tests.transcription.recordings import finished_transcript

SECRET_WORDS = "quillmoss said the river kept our names"


def on_request_story(*, details_listed=False, title="The lantern maker", people=None, recording=True, **fields):
    """A published story on request with every participant's consent, an access copy and a transcript."""
    people = people if people is not None else [PersonFactory(birth_year=1950)]
    fields.setdefault("community__name", "Riverside")
    story = StoryPageFactory(
        title=title,
        summary=f"How {title.lower()} learned the trade.",
        visibility=Visibility.ON_REQUEST,
        participants=people,
        **fields,
    )
    for person in people:
        ConsentFactory(story=story, person=person, on_request_details_listed=details_listed)
    if recording:
        copy = private_storage().save(f"access/{story.pk}.m4a", ContentFile(f"ACCESS COPY OF {story.pk}".encode()))
        story.recording = StoryMedia.objects.create(
            file=f"recordings/{story.pk}.wav",
            size=10,
            sha256=f"{story.pk:064d}",
            container="wav",
            access_copy=copy,
            access_content_type="audio/mp4",
            duration_seconds=60.0,
        )
        story.save(update_fields=["recording"])
        finished_transcript([(0.0, 5.0, f"{SECRET_WORDS} {story.pk}")], media=story.recording)
    return story


def request_url(story) -> str:
    return reverse("stories:access-request", args=[story.pk])


def ask(client, story, **overrides):
    data = {"name": "Ada Reader", "email": "ada@example.org", "purpose": "Family history: my grandmother's town."}
    data.update(overrides)
    return client.post(request_url(story), data)


def link_from(message) -> str:
    return re.search(r"http://[^/\s]+(/access/[^\s]+/)", message.body)[1]


def approve(client, access_request, expires_on) -> str:
    """A facilitator approves through the admin; returns the private link's path from the one e-mail sent."""
    sent_before = len(mail.outbox)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("stories_access:approve", args=[access_request.pk]), {"expires_on": expires_on.isoformat()}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == sent_before + 1
    return link_from(mail.outbox[-1])


@pytest.fixture
def facilitator_client(facilitator):
    client = Client()
    client.force_login(facilitator)
    return client


@pytest.fixture
def asked(client, django_capture_on_commit_callbacks):
    """A story on request and a waiting request for it."""
    story = on_request_story()
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, story)
    return story, AccessRequest.objects.get(story=story)


# The request page and its form


def test_request_page_names_only_the_community_unless_every_storyteller_agreed(client):
    """By default the page says "a story from <community>": no title, summary, transcript; with every storyteller's
    agreement, the title and summary (and still no transcript)."""
    quiet = on_request_story(title="The quiet harbour", people=[PersonFactory(), PersonFactory()])
    page = client.get(request_url(quiet))
    assert page.status_code == 200
    assert "A story from Riverside" in body_text(page)
    assert "quiet harbour" not in body_text(page).lower() and SECRET_WORDS not in body_text(page)
    assert page["Cache-Control"] == "private, no-store"
    # One storyteller of two agreeing is not enough.
    Consent.objects.filter(pk=quiet.consents.first().pk).update(on_request_details_listed=True)
    assert "quiet harbour" not in body_text(client.get(request_url(quiet))).lower()
    # The control: both agreed.
    quiet.consents.update(on_request_details_listed=True)
    shown = body_text(client.get(request_url(quiet)))
    assert "The quiet harbour" in shown and "How the quiet harbour learned the trade." in shown
    assert SECRET_WORDS not in shown


def test_the_form_explains_each_mistake_and_keeps_what_was_typed(client):
    story = on_request_story()
    response = ask(client, story, name="", email="ada@example", purpose="History of the mill and its workers" * 70)
    page = body_text(response)
    assert response.status_code == 400
    assert "Please give your name." in page
    assert "it should look like name@example.org" in page
    assert "Please keep it to 2,000 characters" in page
    assert 'value="ada@example"' in page and "History of the mill and its workers" in page
    assert AccessRequest.objects.count() == 0
    short = ask(client, story, purpose="why")
    assert "Please say a little more" in body_text(short) and 'value="Ada Reader"' in body_text(short)


def test_a_request_reaches_the_facilitators_and_is_audited(client, facilitator, django_capture_on_commit_callbacks):
    story = on_request_story()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, story)
    assert response.status_code == 302
    sent = client.get(response["Location"])
    assert "your request is sent" in body_text(sent) and "Riverside" in body_text(sent)
    access_request = AccessRequest.objects.get()
    assert (access_request.story, access_request.status) == (story, AccessRequest.Status.PENDING)
    [message] = mail.outbox
    assert message.to == [facilitator.email]
    # The requester's words and the story's title stay in the admin.
    assert "Family history" not in message.body and story.title not in message.body
    assert list(AccessEvent.objects.values_list("action", "request_id")) == [("requested", access_request.pk)]


@override_settings(STORY_SHARE_RATE_LIMITS={"access-request": 2})
def test_requests_are_rate_limited(client):
    story = on_request_story()
    assert ask(client, story).status_code == 302
    assert ask(client, story).status_code == 302
    refused = ask(client, story)
    assert refused.status_code == 429 and "try again in an hour" in body_text(refused)
    assert AccessRequest.objects.count() == 2


def test_a_request_without_the_csrf_token_is_refused():
    """Named negative test: a cross-site form cannot file requests in a visitor's name."""
    story = on_request_story()
    client = Client(enforce_csrf_checks=True)
    assert ask(client, story).status_code == 403
    assert AccessRequest.objects.count() == 0
    page = body_text(client.get(request_url(story)))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert ask(client, story, csrfmiddlewaretoken=token).status_code == 302  # the control


def test_a_story_not_on_request_has_no_request_page(client):
    """Public, private, facilitators-only, unconsented and withdrawn stories answer 404 with no title."""
    public = public_story(title="A public garden")
    private = on_request_story(title="A sealed letter")
    StoryPage.objects.filter(pk=private.pk).update(visibility=Visibility.PRIVATE)
    unconsented = on_request_story(title="An unsigned song")
    unconsented.consents.update(withdrawn_at=timezone.now())
    for story in (public, private, unconsented):
        response = client.get(request_url(story))
        assert response.status_code == 404 and story.title not in body_text(response)
        assert ask(client, story).status_code == 404
    assert AccessRequest.objects.count() == 0


# Answering in the admin and the private link


def test_approval_mails_one_link_that_plays_this_story_and_no_other(asked, client, facilitator, facilitator_client):
    story, access_request = asked
    other = on_request_story(title="The other story", community__name="Eastside")
    mail.outbox.clear()
    link = approve(facilitator_client, access_request, timezone.localdate() + datetime.timedelta(days=7))
    assert mail.outbox[-1].to == ["ada@example.org"]

    page = client.get(link)
    assert page.status_code == 200
    assert story.title in body_text(page) and f"{SECRET_WORDS} {story.pk}" in body_text(page)
    assert other.title not in body_text(page) and f"{SECRET_WORDS} {other.pk}" not in body_text(page)
    assert page["Cache-Control"] == "private, no-store" and "noindex" in page["X-Robots-Tag"]
    assert page["Referrer-Policy"] == "no-referrer" and 'name="robots" content="noindex' in body_text(page)
    recording = client.get(reverse("stories:access-link-recording", args=[link.split("/")[2]]))
    assert body_text(recording) == f"ACCESS COPY OF {story.pk}"
    assert recording["Cache-Control"] == "private, no-store"
    # The other story's access copy is not reachable by anyone without its own link.
    assert client.get(reverse("stories:recording", args=[other.recording_id, "access"])).status_code == 404
    assert f"ACCESS COPY OF {other.pk}" not in body_text(recording)

    access_request.refresh_from_db()
    assert access_request.link_uses == 1 and access_request.link_last_used_at is not None
    assert access_request.link_digest not in link  # kept only as a digest
    approved = AccessEvent.objects.get(action="approved")
    assert (approved.by, approved.expires_on) == (facilitator, access_request.expires_on)
    assert AccessEvent.objects.filter(action="link_used", request_id=access_request.pk).count() == 1


def test_an_altered_or_unknown_link_finds_nothing(asked, client, facilitator_client):
    story, access_request = asked
    link = approve(facilitator_client, access_request, timezone.localdate())
    token = link.split("/")[2]
    for wrong in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "x" * 60):
        response = client.get(reverse("stories:access-link", args=[wrong]))
        assert response.status_code == 404 and story.title not in body_text(response)
    assert client.get(link).status_code == 200  # the control


def test_the_link_ends_after_its_last_day(asked, client, facilitator_client):
    story, access_request = asked
    last_day = timezone.localdate() + datetime.timedelta(days=3)
    link = approve(facilitator_client, access_request, last_day)
    with time_machine.travel(datetime.datetime.combine(last_day, datetime.time(23, 0)).astimezone()):
        assert client.get(link).status_code == 200
    with time_machine.travel(datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time(1, 0))):
        ended = client.get(link)
    assert ended.status_code == 410
    assert "This link has ended" in body_text(ended) and story.title not in body_text(ended)


def test_revoking_ends_the_link_at_once(asked, client, facilitator, facilitator_client):
    story, access_request = asked
    link = approve(facilitator_client, access_request, timezone.localdate() + datetime.timedelta(days=30))
    assert client.get(link).status_code == 200
    response = facilitator_client.post(reverse("stories_access:revoke", args=[access_request.pk]))
    assert response.status_code == 302
    for address in (link, link + "recording"):
        ended = client.get(address)
        assert ended.status_code == 410 and story.title not in body_text(ended)
    revoked = AccessEvent.objects.get(action="revoked")
    assert revoked.by == facilitator


def test_declining_tells_the_requester_and_sends_no_link(
    asked, facilitator, facilitator_client, django_capture_on_commit_callbacks
):
    _, access_request = asked
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        facilitator_client.post(reverse("stories_access:decline", args=[access_request.pk]))
    [message] = mail.outbox
    assert message.to == ["ada@example.org"] and "/access/" not in message.body
    access_request.refresh_from_db()
    assert access_request.status == "declined" and access_request.link_digest is None
    assert AccessEvent.objects.get(action="declined").by == facilitator


def test_the_admin_actions_need_the_csrf_token_and_a_facilitator(asked, facilitator, django_user_model):
    """Named negative test: approving by a forged form, or by someone who answers for no community, does nothing."""
    _, access_request = asked
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(facilitator)
    url = reverse("stories_access:approve", args=[access_request.pk])
    assert forged.post(url, {"expires_on": timezone.localdate().isoformat()}).status_code == 403
    editor = django_user_model.objects.create_user("editor", "editor@example.org", "a-long-passphrase")
    outsider = Client()
    outsider.force_login(editor)
    assert outsider.post(url, {"expires_on": timezone.localdate().isoformat()}).status_code in (302, 403)
    assert outsider.get(reverse("stories_access:list")).status_code in (302, 403)
    access_request.refresh_from_db()
    assert access_request.status == "pending" and not AccessEvent.objects.filter(action="approved").exists()
    listing = Client()
    listing.force_login(facilitator)
    assert "Ada Reader" in body_text(listing.get(reverse("stories_access:list")))  # the control


@pytest.mark.parametrize(
    "end_it",
    [
        pytest.param(lambda story: story_withdraw(story=story, requested_by="storyteller"), id="withdrawn"),
        pytest.param(lambda story: _save(story, visibility=Visibility.PRIVATE), id="made-private"),
        pytest.param(lambda story: _withdraw_consent(story), id="consent-withdrawn"),
    ],
)
def test_the_story_leaving_on_request_ends_every_grant_at_once(
    end_it, client, facilitator_client, django_capture_on_commit_callbacks
):
    """Withdrawal, a change to private, or a consent withdrawn: every link ends on the next request, and every
    waiting request and link is ended for good, even if the story is put back on request."""
    story = on_request_story()
    for name in ("Ada", "Bea"):
        ask(client, story, name=name)
    first, second = AccessRequest.objects.order_by("pk")
    link = approve(facilitator_client, first, timezone.localdate() + datetime.timedelta(days=30))
    assert client.get(link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        end_it(story)
        # Before anything runs on commit, the link already asks about the story.
        ended = client.get(link)
        assert ended.status_code == 410 and "The lantern maker" not in body_text(ended)
    assert callbacks
    assert set(AccessRequest.objects.values_list("status", flat=True)) == {"ended"}
    assert AccessEvent.objects.filter(action="ended").count() == 2
    if not StoryPage.objects.get(pk=story.pk).withdrawn_at:
        _save(story, visibility=Visibility.ON_REQUEST)
        Consent.objects.filter(story=story).update(withdrawn_at=None)
        assert StoryPage.objects.get(pk=story.pk).is_available_on_request()
        assert client.get(link).status_code == 410, "an ended link came back with its story"
    assert (
        facilitator_client.post(
            reverse("stories_access:approve", args=[second.pk]), {"expires_on": timezone.localdate().isoformat()}
        ).status_code
        == 302
    )
    assert AccessRequest.objects.get(pk=second.pk).link_digest is None


def _save(story, **changes):
    story = StoryPage.objects.get(pk=story.pk)
    for name, value in changes.items():
        setattr(story, name, value)
    story.save()


def _withdraw_consent(story):
    consent = Consent.objects.filter(story=story).first()
    consent.withdrawn_at = timezone.now()
    consent.save()


# The rule: an on-request story is never a public story


def test_an_on_request_story_is_absent_from_every_public_listing_count_and_search(
    client, django_capture_on_commit_callbacks
):
    """Named negative test: stories on request, in an archive larger than a page of results, appear on no public
    listing, count, facet, feed, export, API, sitemap, harvest or search, except search's "available on request"
    for those whose storytellers agreed; the public stories around them are the visible control."""
    archive = build_archive()
    agreed, quiet = archive[3], archive[7]
    with django_capture_on_commit_callbacks(execute=True):
        for story_id in (agreed, quiet):
            _save(StoryPage.objects.get(pk=story_id), visibility=Visibility.ON_REQUEST)
        Consent.objects.filter(story_id=agreed).update(on_request_details_listed=True)
    paths = story_paths()
    expected = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    assert len(expected) == len(archive) - 2 > 20
    assert_public_paths_follow_the_rule(client, archive)
    assert_on_request_follows_the_rule(client, expected, paths)
    # Search for the word every story holds: the public stories are found (the control), the agreed story is listed
    # apart as available on request, the other not at all.
    page = body_text(client.get("/search/", {"q": WORD}))
    assert f"{len(expected)} stories for" in page
    assert reverse("stories:access-request", args=[agreed]) in page
    assert reverse("stories:access-request", args=[quiet]) not in page
    assert StoryPage.objects.get(pk=quiet).title not in page.split('id="on-request-heading"', 1)[-1]


def test_the_rule_check_can_fail(client):
    """The check's control: a request page that named a title its storytellers did not agree to would be caught."""
    story = on_request_story(title="The tin whistle")
    paths = story_paths()
    Consent.objects.filter(story=story).update(on_request_details_listed=True)
    page_names_it = body_text(client.get(request_url(story)))
    Consent.objects.filter(story=story).update(on_request_details_listed=False)
    assert "The tin whistle" in page_names_it
    assert_on_request_follows_the_rule(client, set(), paths)  # holds now
    # Checked against a wrong expectation (the story counted as public), the check fails.
    with pytest.raises(AssertionError):
        assert_on_request_follows_the_rule(client, {story.pk}, paths)


def test_another_community_s_facilitator_is_not_told_cannot_see_and_cannot_answer_a_request(
    client, facilitator, django_user_model, django_capture_on_commit_callbacks
):
    """Named negative test: a request reaches its story's community's facilitators only; a facilitator of another
    community is not e-mailed, does not see it listed, and gets 404 (not 403) for each action, so that neither the
    request nor its story is told. The story's own community's facilitator is the control."""
    from stories.models import Community
    from stories.roles import FACILITATORS

    elsewhere = django_user_model.objects.create_user("hillside", "hillside@example.org", "a-long-passphrase")
    elsewhere.groups.add(django_user_model.groups.rel.model.objects.get(name=FACILITATORS))
    Community.objects.create(name="Hillside", slug="hillside").facilitators.add(elsewhere)
    story = on_request_story()
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, story)
    access_request = AccessRequest.objects.get()
    [message] = mail.outbox
    assert message.to == [facilitator.email]

    other = Client()
    other.force_login(elsewhere)
    listing = body_text(other.get(reverse("stories_access:list")))
    assert "Ada Reader" not in listing and story.title not in listing
    for action in ("approve", "decline", "revoke"):
        answer = other.post(
            reverse(f"stories_access:{action}", args=[access_request.pk]),
            {"expires_on": timezone.localdate().isoformat()},
        )
        assert answer.status_code == 404 and story.title not in body_text(answer), action
    missing = other.post(reverse("stories_access:approve", args=[access_request.pk + 1000]), {})
    assert missing.status_code == 404
    access_request.refresh_from_db()
    assert access_request.status == "pending" and len(mail.outbox) == 1

    own = Client()
    own.force_login(facilitator)
    assert "Ada Reader" in body_text(own.get(reverse("stories_access:list")))
    approved = own.post(
        reverse("stories_access:approve", args=[access_request.pk]), {"expires_on": timezone.localdate().isoformat()}
    )
    assert approved.status_code == 302
    access_request.refresh_from_db()
    assert access_request.status == "approved"
