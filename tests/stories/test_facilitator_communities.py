"""Facilitators work within their own communities: who works where, and what each role reaches in the admin."""

import json
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser, Group
from django.urls import reverse

from stories.factories import CommunityFactory, public_story
from stories.models import Community, Visibility
from stories.permissions import communities_for, stories_for
from stories.roles import FACILITATORS, ensure_facilitators_group
from tests.transcription.recordings import finished_transcript

MIGRATION = import_module("stories.migrations.0016_facilitator_communities")


def make_facilitator(django_user_model, name, *communities):
    ensure_facilitators_group()
    user = django_user_model.objects.create_user(name, f"{name}@example.org", "a-long-passphrase")
    user.groups.add(Group.objects.get(name=FACILITATORS))
    for community in communities:
        community.facilitators.add(user)
    return user


# Who works where ----------------------------------------------------------------------------------------------------


def test_the_upgrade_puts_every_existing_facilitator_in_every_community(django_user_model):
    """The data migration: nobody in the Facilitators group loses a story they could edit before."""
    first, second = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    facilitator = make_facilitator(django_user_model, "before")
    bystander = django_user_model.objects.create_user("bystander", "bystander@example.org", "a-long-passphrase")
    assert list(communities_for(facilitator)) == [], "control: before the upgrade's step, no community"

    MIGRATION.place_facilitators_in_every_community(apps, None)

    assert set(communities_for(facilitator)) == {first, second}
    assert list(communities_for(bystander)) == [], "someone outside the group is placed nowhere"


def test_the_upgrade_step_can_run_twice(django_user_model):
    community = CommunityFactory(name="Elm Street")
    facilitator = make_facilitator(django_user_model, "before", community)

    MIGRATION.place_facilitators_in_every_community(apps, None)

    assert list(community.facilitators.all()) == [facilitator]


def test_communities_and_stories_per_role(django_user_model, admin_user):
    a, b = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    of_a = public_story(title="Elm garden", community=a)
    only_facilitators = public_story(title="Elm kitchen", community=a, visibility=Visibility.FACILITATORS)
    private = public_story(title="Elm letter", community=a, visibility=Visibility.PRIVATE)
    of_b = public_story(title="River mill", community=b)
    facilitator_a = make_facilitator(django_user_model, "of-a", a)
    facilitator_b = make_facilitator(django_user_model, "of-b", b)

    assert set(stories_for(admin_user)) == {of_a, only_facilitators, private, of_b}
    assert set(stories_for(facilitator_a)) == {of_a, only_facilitators}, "a private story is sealed"
    assert set(stories_for(facilitator_b)) == {of_b}
    assert list(stories_for(AnonymousUser())) == []
    assert set(communities_for(admin_user)) == {a, b}
    assert list(communities_for(facilitator_b)) == [b]


def test_an_administrator_chooses_a_communitys_facilitators_in_the_admin(client, admin_user, django_user_model):
    community = CommunityFactory(name="Elm Street", place="Springfield")
    facilitator = make_facilitator(django_user_model, "new-facilitator")
    client.force_login(admin_user)
    url = f"/admin/snippets/stories/community/edit/{community.pk}/"
    assert "new-facilitator" in client.get(url).content.decode(), "members of the group are offered"

    response = client.post(
        url, {"name": community.name, "slug": community.slug, "place": "Springfield", "facilitators": [facilitator.pk]}
    )

    assert response.status_code == 302
    assert list(communities_for(facilitator)) == [community]


def test_only_members_of_the_facilitators_group_can_be_chosen(client, admin_user, django_user_model):
    community = CommunityFactory(name="Elm Street")
    outsider = django_user_model.objects.create_user("outsider", "outsider@example.org", "a-long-passphrase")
    client.force_login(admin_user)

    response = client.post(
        f"/admin/snippets/stories/community/edit/{community.pk}/",
        {"name": community.name, "slug": community.slug, "facilitators": [outsider.pk]},
    )

    assert response.status_code == 200, "the form is shown again with its message"
    assert "Select a valid choice" in response.content.decode()
    assert not Community.objects.filter(facilitators=outsider).exists()


# Each role, each admin URL that names a story of community A -------------------------------------------------------

TITLE = "Quillfeather orchard"
PRIVATE_TITLE = "Sealed letter from Elm Street"


@pytest.fixture
def roles(django_user_model, admin_user):
    """Community A's story (in review, with a revision) and private story; a facilitator of A, one of B, an admin."""
    from stories.services.review import facilitator_review_workflow

    a, b = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    transcript = finished_transcript([(0.0, 4.0, "we planted the orchard"), (4.0, 8.0, "the spring after the flood")])
    story = public_story(title=TITLE, community=a, recording=transcript.media)
    revision = story.save_revision(user=admin_user)
    workflow_state = facilitator_review_workflow().start(story, admin_user)
    private_transcript = finished_transcript([(0.0, 4.0, "a letter read aloud")])
    private = public_story(
        title=PRIVATE_TITLE, community=a, visibility=Visibility.PRIVATE, recording=private_transcript.media
    )
    private.save_revision(user=admin_user)
    return {
        "story": story,
        "transcript": transcript,
        "revision": revision,
        "task_state": workflow_state.current_task_state,
        "private": private,
        "private_transcript": private_transcript,
        "of_a": make_facilitator(django_user_model, "facilitator-of-a", a),
        "of_b": make_facilitator(django_user_model, "facilitator-of-b", b),
        "administrator": admin_user,
    }


PAGE_URLS = {
    "edit": lambda r, page: f"/admin/pages/{page.pk}/edit/",
    "preview of the draft": lambda r, page: f"/admin/pages/{page.pk}/view_draft/",
    "history": lambda r, page: f"/admin/pages/{page.pk}/history/",
    "a revision": lambda r, page: f"/admin/pages/{page.pk}/revisions/{page.latest_revision_id}/view/",
    "revisions compared": lambda r, page: f"/admin/pages/{page.pk}/revisions/compare/earliest...latest/",
    "usage": lambda r, page: f"/admin/pages/{page.pk}/usage/",
    "workflow history": lambda r, page: f"/admin/pages/{page.pk}/workflow_history/",
}
WORKFLOW_URLS = {
    "workflow preview": lambda r, page: f"/admin/pages/workflow/preview/{page.pk}/{r['task_state'].task_id}/",
    "workflow approve": lambda r, page: f"/admin/pages/workflow/action/{page.pk}/approve/{r['task_state'].pk}/",
}


def get(client, user, url):
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    return client.get(url)


def assert_refused(response, title):
    assert response.status_code in (403, 404), response.status_code
    assert title not in response.content.decode()


def assert_shown(response, title):
    assert response.status_code == 200, response.status_code
    assert title in response.content.decode()


@pytest.mark.parametrize("name", [*PAGE_URLS, *WORKFLOW_URLS])
def test_a_facilitator_of_another_community_is_refused_every_page_url_of_a_story_and_learns_nothing(
    client, roles, name
):
    """Negative test: B's facilitator gets 404 and no title; A's facilitator and the administrator are the control."""
    url = {**PAGE_URLS, **WORKFLOW_URLS}[name](roles, roles["story"])
    # The approval form opens in a dialog that names the action, not the story.
    shown = '"step": "action"' if name == "workflow approve" else TITLE

    assert_refused(get(client, roles["of_b"], url), TITLE)
    assert_shown(get(client, roles["of_a"], url), shown)
    assert_shown(get(client, roles["administrator"], url), shown)


@pytest.mark.parametrize("name", [*PAGE_URLS, *WORKFLOW_URLS])
def test_anonymous_visitors_are_sent_to_sign_in_and_learn_nothing(client, roles, name):
    url = {**PAGE_URLS, **WORKFLOW_URLS}[name](roles, roles["story"])

    response = get(client, None, url)

    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert TITLE not in response.content.decode()


def test_a_refused_story_answers_as_a_missing_page_does(client, roles):
    """B's facilitator cannot tell a story of A from an id no page has."""
    missing = get(client, roles["of_b"], "/admin/pages/987654/edit/")
    refused = get(client, roles["of_b"], f"/admin/pages/{roles['story'].pk}/edit/")

    assert (missing.status_code, refused.status_code) == (404, 404)


@pytest.mark.parametrize("name", [*PAGE_URLS])
def test_a_private_story_is_sealed_to_its_own_communitys_facilitators(client, roles, name):
    """Private means administrators only; the administrator's view is the control."""
    url = PAGE_URLS[name](roles, roles["private"])

    assert_refused(get(client, roles["of_a"], url), PRIVATE_TITLE)
    assert_refused(get(client, roles["of_b"], url), PRIVATE_TITLE)
    assert_shown(get(client, roles["administrator"], url), PRIVATE_TITLE)


def test_a_facilitators_only_story_is_open_to_that_communitys_facilitators(client, roles):
    story = roles["story"]
    type(story).objects.filter(pk=story.pk).update(visibility=Visibility.FACILITATORS)
    url = f"/admin/pages/{story.pk}/edit/"

    assert_shown(get(client, roles["of_a"], url), TITLE)
    assert_refused(get(client, roles["of_b"], url), TITLE)


def test_a_facilitator_of_another_community_cannot_approve_the_story(client, roles):
    """Negative test: the review task belongs to the whole Facilitators group, the story to A's facilitators."""
    client.force_login(roles["of_b"])
    url = WORKFLOW_URLS["workflow approve"](roles, roles["story"])

    response = client.post(url, {"comment": ""})

    assert response.status_code == 404
    roles["task_state"].refresh_from_db()
    assert roles["task_state"].status == "in_progress"


def test_every_check_wagtail_asks_refuses_a_story_out_of_reach(roles):
    """Every can_* of the page permission tester, this Wagtail version's and later ones'."""
    story, index = roles["story"], roles["story"].get_parent()
    refused = story.permissions_for_user(roles["of_b"])
    allowed = story.permissions_for_user(roles["of_a"])
    checks = [name for name in dir(refused) if name.startswith("can_")]
    arguments = {"can_move_to": [index], "can_copy_to": [index]}

    assert {name for name in checks if getattr(refused, name)(*arguments.get(name, []))} == set()
    assert allowed.can_edit() and allowed.can_publish() and allowed.can_view_revisions(), "control"


@pytest.mark.parametrize(
    ("where", "url"),
    [
        ("the explorer", lambda index: f"/admin/pages/{index.pk}/"),
        ("the explorer's search", lambda index: f"/admin/pages/{index.pk}/?q=Quillfeather"),
        ("the admin's page search", lambda index: "/admin/pages/search/?q=Quillfeather"),
        ("the page chooser", lambda index: f"/admin/choose-page/{index.pk}/"),
        ("the page chooser's search", lambda index: "/admin/choose-page/search/?q=Quillfeather"),
    ],
)
def test_listings_and_choosers_offer_only_the_facilitators_own_communities(client, roles, where, url):
    url = url(roles["story"].get_parent())

    assert TITLE not in get(client, roles["of_b"], url).content.decode()
    assert TITLE in get(client, roles["of_a"], url).content.decode(), "control: A's facilitator sees it listed"
    assert TITLE in get(client, roles["administrator"], url).content.decode()


# The transcription admin and the recording's original ---------------------------------------------------------------

TRANSCRIPTION_URLS = {
    "transcript editor and corrector": lambda page: reverse("transcription_admin:story", args=[page.pk]),
    "transcript upload": lambda page: reverse("transcription_admin:upload", args=[page.pk]),
    "redactions": lambda page: reverse("transcription_admin:redactions", args=[page.pk]),
    "written redactions": lambda page: reverse("transcription_admin:written-redactions", args=[page.pk]),
}


def original_url(page):
    return reverse("stories:recording", args=[page.recording_id, "original"])


@pytest.mark.parametrize("name", [*TRANSCRIPTION_URLS])
def test_the_transcription_admin_refuses_a_facilitator_of_another_community_as_a_missing_story(client, roles, name):
    """Negative test: B's facilitator gets 404 and no title, as for an id no story has; A's and the administrator's
    views are the control."""
    url, missing = (
        TRANSCRIPTION_URLS[name](roles["story"]),
        TRANSCRIPTION_URLS[name](type("Missing", (), {"pk": 987654})),
    )

    assert_refused(get(client, roles["of_b"], url), TITLE)
    assert get(client, roles["of_b"], missing).status_code == 404, "a missing story answers the same"
    assert_shown(get(client, roles["of_a"], url), TITLE)
    assert_shown(get(client, roles["administrator"], url), TITLE)


@pytest.mark.parametrize("name", [*TRANSCRIPTION_URLS])
def test_the_transcription_admin_keeps_a_private_story_for_administrators(client, roles, name):
    url = TRANSCRIPTION_URLS[name](roles["private"])

    assert_refused(get(client, roles["of_a"], url), PRIVATE_TITLE)
    assert_shown(get(client, roles["administrator"], url), PRIVATE_TITLE)


@pytest.mark.parametrize("name", [*TRANSCRIPTION_URLS])
def test_the_transcription_admin_sends_anonymous_visitors_to_sign_in(client, roles, name):
    response = get(client, None, TRANSCRIPTION_URLS[name](roles["story"]))

    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_a_facilitator_of_another_community_cannot_correct_the_transcript(client, roles):
    """Negative test: the corrector's autosave answers 404 and the words stay as they were."""
    transcript = roles["transcript"]
    first = transcript.segments.order_by("index").first()
    url = reverse("transcription_admin:change", args=[roles["story"].pk, transcript.pk])
    change = json.dumps({"version": transcript.version, "action": "text", "segment": first.pk, "text": "Forged"})

    client.force_login(roles["of_b"])
    refused = client.post(url, change, content_type="application/json")
    assert refused.status_code == 404 and TITLE not in refused.content.decode()
    first.refresh_from_db()
    assert first.text == "we planted the orchard"

    client.force_login(roles["of_a"])
    assert client.post(url, change, content_type="application/json").status_code == 200, "control"
    first.refresh_from_db()
    assert first.text == "Forged"


def test_a_facilitator_of_another_community_cannot_redact(client, roles):
    url = reverse("transcription_admin:redactions", args=[roles["story"].pk])
    client.force_login(roles["of_b"])

    response = client.post(url, {"start": "0", "end": "2", "reason": "Names a neighbour"})

    assert response.status_code == 404
    assert not roles["story"].recording.redactions.exists()


def test_the_recordings_original_is_for_the_storys_own_facilitators(client, roles):
    """Negative test: the preservation original answers 404 to B's facilitator, as to anyone who may not edit."""
    url = original_url(roles["story"])

    assert get(client, roles["of_b"], url).status_code == 404
    assert get(client, None, url).status_code == 404
    assert get(client, roles["of_a"], url).status_code == 200, "control: A's facilitator downloads it"
    assert get(client, roles["administrator"], url).status_code == 200


def test_a_facilitator_of_another_community_cannot_export_the_storys_preservation_bag(client, roles):
    """Negative test: the export of a story as a preservation bag (its recording, transcript and consent records)
    refuses B's facilitator, asked or posted, without the title and without writing a bag."""
    from preservation.models import BagExport

    url = reverse("preservation_bag_request", args=[roles["story"].pk])

    assert_refused(get(client, roles["of_b"], url), TITLE)
    refused = client.post(url, {"include_not_public": "on"})
    assert_refused(refused, TITLE)
    assert not BagExport.objects.exists()
    assert_shown(get(client, roles["of_a"], url), TITLE)  # control: A's facilitator is offered the export
    assert_shown(get(client, roles["administrator"], url), TITLE)


def test_a_private_storys_original_is_for_administrators_only(client, roles):
    url = original_url(roles["private"])

    assert get(client, roles["of_a"], url).status_code == 404
    assert get(client, roles["administrator"], url).status_code == 200, "control"


def test_the_dashboards_awaiting_review_lists_only_the_facilitators_own_communities(client, roles):
    """Negative test: the review task is the whole group's, but B's facilitator is not shown A's submission."""
    assert TITLE not in get(client, roles["of_b"], "/admin/").content.decode()
    assert TITLE in get(client, roles["of_a"], "/admin/").content.decode(), "control: A's facilitator reviews it"


@pytest.mark.parametrize("action", ["publish", "unpublish", "delete", "move"])
def test_a_bulk_action_naming_another_communitys_story_answers_404(client, roles, action):
    """Negative test: the bulk action's confirmation would list the story it refuses, by title."""
    url = f"/admin/bulk/wagtailcore/page/{action}/?id={roles['story'].pk}"

    assert_refused(get(client, roles["of_b"], url), TITLE)
    assert_shown(get(client, roles["of_a"], url), TITLE)


def test_recording_a_withdrawal_for_another_communitys_story_answers_404(client, roles):
    url = reverse("stories_record_withdrawal", args=[roles["story"].pk])

    assert_refused(get(client, roles["of_b"], url), TITLE)
    assert_shown(get(client, roles["of_a"], url), TITLE)


def test_a_private_storys_listening_copy_is_for_administrators_only(client, roles):
    """Negative test: a private story is sealed, its recording too, even to its own community's facilitators."""
    url = reverse("stories:recording", args=[roles["private"].recording_id, "poster"])
    original = original_url(roles["private"])

    assert get(client, roles["of_a"], url).status_code == 404
    assert get(client, roles["of_a"], original).status_code == 404
    assert get(client, roles["administrator"], original).status_code == 200, "control"


def test_the_admin_check_leaves_a_public_answers_session_alone(client):
    """Named negative test: the check of admin page addresses asks who the user is only on those addresses. Asked on
    every request, it read the session of public answers that never need it (the API, the listening beacon): each
    answer then varied by cookie and an old session cookie was deleted (Set-Cookie)."""
    public_story(title="Elm garden")
    client.cookies["sessionid"] = "an-old-session"
    answer = client.get("/api/stories")
    assert answer.status_code == 200 and "Elm garden" in answer.content.decode()
    assert "Set-Cookie" not in answer.headers and not answer.cookies
    assert "Cookie" not in answer.get("Vary", "")
