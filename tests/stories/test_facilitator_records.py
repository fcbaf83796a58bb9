"""Facilitators see only their own communities' records in the admin's snippets, choosers, list filters and forms.

Per role (anonymous, a facilitator of community A, one of B, an administrator) and per admin address that names a
record of A: B's facilitator is answered as for a missing record (404) and no name of it is in the answer; the same
address asked by A's facilitator or the administrator shows the name (the control). stories/permissions.py
(RECORD_BELONGING) says which community each record belongs to; tests/stories/test_facilitator_communities.py tests
the stories themselves.
"""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import nested_form_data, querydict_from_html, streamfield

from stories.factories import CommunityFactory, DialogueFactory, PersonFactory, public_story
from stories.models import Consent, CorrectionRequest, Dialogue, Invite, Person, StoryPage, Visibility, Withdrawal
from stories.permissions import RECORD_BELONGING, records_for
from stories.services import story_withdraw
from tests.responses import body_text as text

from .test_facilitator_communities import get, make_facilitator
from .test_preview import edit_form_data

MIGRATION = import_module("stories.migrations.0018_records_belong_to_communities")

TITLE = "Quillfeather orchard"
PERSON = "Marisol Quintero"
DIALOGUE = "Larkspur gathering"
INVITE = "Link for the Wren Hollow families"
NOTE = "Please spell Nightjar Lane as the street sign does"
PRIVATE_TITLE = "Sealed letter from Elm Street"
PRIVATE_PERSON = "Oriel Ashgrove"
MISSING = 987654


@pytest.fixture
def roles(django_user_model, admin_user):
    """Community A's records, one of each kind, and a private story's; a facilitator of A, one of B, an
    administrator; B has a story and a person of its own."""
    a, b = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    person = PersonFactory(display_name=PERSON, full_name=f"{PERSON} Vidal")
    story = public_story(title=TITLE, community=a, people=[person])
    dialogue = DialogueFactory(title=DIALOGUE, community=a)
    invite = Invite.objects.create(
        community=a, dialogue=dialogue, label=INVITE, expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    correction = CorrectionRequest.objects.create(story=story, note=NOTE)
    withdrawal = story_withdraw(story=public_story(title="A story taken back", community=a), requested_by="facilitator")
    private_person = PersonFactory(display_name=PRIVATE_PERSON)
    private = public_story(
        title=PRIVATE_TITLE, community=a, visibility=Visibility.PRIVATE, people=[private_person, person]
    )
    river = public_story(title="River mill", community=b, people=[PersonFactory(display_name="Tobias Wren")])
    return {
        "a": a,
        "b": b,
        "person": person,
        "story": story,
        "consent": story.consents.get(),
        "dialogue": dialogue,
        "invite": invite,
        "correction note": correction,
        "withdrawal": withdrawal,
        "community": a,
        "private": private,
        "private person": private_person,
        "river": river,
        "of_a": make_facilitator(django_user_model, "facilitator-of-a", a),
        "of_b": make_facilitator(django_user_model, "facilitator-of-b", b),
        "administrator": admin_user,
    }


# Each record of A: its snippet's address, and what names it besides its name (str) and the link to it.
RECORDS = {
    "person": ("person", [PERSON]),
    "consent": ("consent", [TITLE]),
    "dialogue": ("dialogue", [DIALOGUE]),
    "invite": ("invite", [INVITE]),
    "correction note": ("correctionrequest", [NOTE, TITLE]),
    "withdrawal": ("withdrawal", []),
    "community": ("community", ["Elm Street"]),
}


def markers(roles, record) -> list[str]:
    model, named = RECORDS[record]
    pk = roles[record].pk
    view = "inspect" if record == "withdrawal" else "edit"
    return [*named, str(roles[record]), f'href="/admin/snippets/stories/{model}/{view}/{pk}/"']


# Every admin address naming one record: the snippet's views, its chooser's answer, and the bulk delete.
OBJECT_URLS = {
    "edit": lambda model, pk: f"/admin/snippets/stories/{model}/edit/{pk}/",
    "delete": lambda model, pk: f"/admin/snippets/stories/{model}/delete/{pk}/",
    "history": lambda model, pk: f"/admin/snippets/stories/{model}/history/{pk}/",
    "history results": lambda model, pk: f"/admin/snippets/stories/{model}/history-results/{pk}/",
    "usage": lambda model, pk: f"/admin/snippets/stories/{model}/usage/{pk}/",
    "inspect": lambda model, pk: f"/admin/snippets/stories/{model}/inspect/{pk}/",
    "chooser's choice": lambda model, pk: f"/admin/snippets/choose/stories/{model}/chosen/{pk}/",
    "bulk delete": lambda model, pk: f"/admin/bulk/stories/{model}/delete/?id={pk}",
}
# Who is shown each address, where not both A's facilitator and the administrator are: a facilitator deletes nothing
# and only reads communities; the withdrawal audit is only read, through its inspect view (the only one), by
# administrators too (tests/stories/test_withdrawal.py). The bulk delete names the record to whoever may see it,
# among those they may not delete.
AUDIT_UNCHANGEABLE = ("edit", "delete", "history", "history results", "usage")
SHOWN_TO = {
    **{(record, "delete"): ("administrator",) for record in RECORDS},
    **{(record, "inspect"): () for record in RECORDS},
    **{("community", kind): ("administrator",) for kind in ("edit", "history", "history results", "usage")},
    **{("withdrawal", kind): () for kind in AUDIT_UNCHANGEABLE},
    ("withdrawal", "inspect"): ("of_a", "administrator"),
}
# Every address someone is shown, so that each refusal has its control.
CASES = [
    (record, kind)
    for record in RECORDS
    for kind in OBJECT_URLS
    if SHOWN_TO.get((record, kind), ("of_a", "administrator"))
]


def names(response, names_it) -> bool:
    body = text(response)
    return any(marker in body for marker in names_it)


def assert_refused(response, names_it):
    assert response.status_code == 404, response.status_code
    assert not names(response, names_it)


def assert_shown(response, names_it):
    assert response.status_code == 200, response.status_code
    assert names(response, names_it)


def case(roles, record, kind):
    model = RECORDS[record][0]
    return OBJECT_URLS[kind](model, roles[record].pk), OBJECT_URLS[kind](model, MISSING), markers(roles, record)


# Each role, each admin address that names a record of community A --------------------------------------------------


@pytest.mark.parametrize(("record", "kind"), CASES)
def test_a_facilitator_of_another_community_is_refused_every_address_of_a_record_and_learns_nothing(
    client, roles, record, kind
):
    """Negative test: B's facilitator gets 404 and no name, as for an id no record has; the control is the same
    address asked by A's facilitator or the administrator, where either of them is shown it."""
    url, missing, names_it = case(roles, record, kind)
    shown_to = SHOWN_TO.get((record, kind), ("of_a", "administrator"))

    assert_refused(get(client, roles["of_b"], url), names_it)
    assert get(client, roles["of_b"], missing).status_code == 404, "a missing record answers the same"
    for role in shown_to:
        assert_shown(get(client, roles[role], url), names_it)


@pytest.mark.parametrize(("record", "kind"), CASES)
def test_a_communitys_own_facilitator_is_refused_only_what_their_role_forbids(client, roles, record, kind):
    """A's facilitator is shown every address of A's records their role allows; where it does not (deleting, editing a
    community or the audit) they are refused as before, by Wagtail's permission check, without the name."""
    url, missing, names_it = case(roles, record, kind)
    response = get(client, roles["of_a"], url)

    if "of_a" in SHOWN_TO.get((record, kind), ("of_a",)):
        assert_shown(response, names_it)
    else:
        assert response.status_code in (302, 403, 404), response.status_code
        assert not names(response, names_it)


@pytest.mark.parametrize(("record", "kind"), CASES)
def test_anonymous_visitors_are_sent_to_sign_in_and_learn_nothing(client, roles, record, kind):
    url, missing, names_it = case(roles, record, kind)

    response = get(client, None, url)

    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert not names(response, names_it)


@pytest.mark.parametrize("kind", AUDIT_UNCHANGEABLE)
def test_the_withdrawal_audit_is_refused_to_everyone_but_told_only_to_its_communitys(client, roles, kind):
    """Nobody changes the audit: A's facilitator and the administrator are refused by Wagtail's permission check (sent
    to the dashboard), B's facilitator is answered as for a missing entry."""
    url, missing, names_it = case(roles, "withdrawal", kind)

    assert_refused(get(client, roles["of_b"], url), names_it)
    for role in ("of_a", "administrator"):
        refused = get(client, roles[role], url)
        assert refused.status_code == 302 and refused.url == "/admin/"


# Listings, searches and choosers -------------------------------------------------------------------------------------

LIST_URLS = {
    "list": lambda model: f"/admin/snippets/stories/{model}/",
    "list results": lambda model: f"/admin/snippets/stories/{model}/results/",
    "chooser": lambda model: f"/admin/snippets/choose/stories/{model}/",
    "chooser results": lambda model: f"/admin/snippets/choose/stories/{model}/results/",
}
# The searches. The people's and communities' listings search named fields (their viewsets' search_fields), which
# Wagtail's SQLite search backend cannot, for anyone: those two are searched in their choosers here.
SEARCH_URLS = {
    "list searched": lambda model, q: f"/admin/snippets/stories/{model}/?q={q}",
    "chooser searched": lambda model, q: f"/admin/snippets/choose/stories/{model}/results/?q={q}",
}
SEARCHES = [
    ("list searched", "dialogue", "Larkspur"),
    ("chooser searched", "person", "Quintero"),
    ("chooser searched", "dialogue", "Larkspur"),
    ("chooser searched", "community", "Elm"),
]


def assert_listed_only_within_reach(client, roles, url, names_it):
    refused = get(client, roles["of_b"], url)
    assert refused.status_code == 200 and not names(refused, names_it)
    assert_shown(get(client, roles["of_a"], url), names_it)
    assert_shown(get(client, roles["administrator"], url), names_it)


@pytest.mark.parametrize("record", list(RECORDS))
@pytest.mark.parametrize("kind", list(LIST_URLS))
def test_listings_and_choosers_offer_only_the_facilitators_own_communities(client, roles, record, kind):
    """Negative test: B's facilitator's list and chooser leave A's record out; A's facilitator's and the
    administrator's show it (the control)."""
    url = LIST_URLS[kind](RECORDS[record][0])

    assert_listed_only_within_reach(client, roles, url, markers(roles, record))


@pytest.mark.parametrize(("kind", "record", "query"), SEARCHES)
def test_searches_find_only_the_facilitators_own_communities_records(client, roles, kind, record, query):
    url = SEARCH_URLS[kind](RECORDS[record][0], query)

    assert_listed_only_within_reach(client, roles, url, markers(roles, record))


@pytest.mark.parametrize("model", ["invite", "dialogue", "person"])
def test_the_community_list_filter_offers_only_the_users_communities(client, roles, model):
    def offered(user):
        response = get(client, roles[user], f"/admin/snippets/stories/{model}/")
        assert response.status_code == 200
        return set(response.context["filters"].form.fields["community"].queryset)

    assert offered("of_b") == {roles["b"]}
    assert offered("of_a") == {roles["a"]}
    assert offered("administrator") == {roles["a"], roles["b"]}, "control: the administrator is offered both"


def test_filtering_by_another_communitys_id_shows_nothing_of_it(client, roles):
    response = get(client, roles["of_b"], f"/admin/snippets/stories/dialogue/?community={roles['a'].pk}")

    assert DIALOGUE not in text(response)
    assert DIALOGUE in text(get(client, roles["of_a"], f"/admin/snippets/stories/dialogue/?community={roles['a'].pk}"))


def test_bulk_delete_of_all_of_a_listing_names_only_the_users_own_records(client, roles):
    """Negative test: 'select all' took every row of the model, and listed those the user may not delete by name."""
    url = "/admin/bulk/stories/person/delete/?id=all"

    refused = text(get(client, roles["of_b"], url))
    assert PERSON not in refused and "Tobias Wren" in refused
    assert PERSON in text(get(client, roles["administrator"], url)), "control"


def test_a_facilitator_of_another_community_deletes_nothing_in_bulk(client, roles):
    dialogue = roles["dialogue"]
    client.force_login(roles["of_b"])

    url = f"/admin/bulk/stories/dialogue/delete/?id={dialogue.pk}"

    assert client.post(url).status_code == 404
    assert Dialogue.objects.filter(pk=dialogue.pk).exists()

    client.force_login(roles["administrator"])
    assert client.post(url).status_code == 302, "control: the administrator deletes it"
    assert not Dialogue.objects.filter(pk=dialogue.pk).exists()


def test_a_facilitator_of_another_community_cannot_change_a_record(client, roles):
    """Negative test: B's facilitator posts an edit of A's dialogue: 404, and it stays as it was; A's facilitator
    posting the same is the control."""
    dialogue = roles["dialogue"]
    url = f"/admin/snippets/stories/dialogue/edit/{dialogue.pk}/"
    edit = {"title": "Renamed", "slug": dialogue.slug, "community": roles["a"].pk}

    client.force_login(roles["of_b"])
    assert client.post(url, edit).status_code == 404
    assert Dialogue.objects.get(pk=dialogue.pk).title == DIALOGUE

    client.force_login(roles["of_a"])
    assert client.post(url, edit).status_code == 302
    assert Dialogue.objects.get(pk=dialogue.pk).title == "Renamed"


# Private stories are sealed: their records are the administrators' ------------------------------------------------


def private_consent(roles):
    return roles["private"].consents.get(person=roles["private person"])


@pytest.mark.parametrize(
    ("what", "url", "names_it", "status"),
    [
        (
            "its consent record",
            lambda r: f"/admin/snippets/stories/consent/edit/{private_consent(r).pk}/",
            [PRIVATE_TITLE],
            404,
        ),
        (
            "its participant",
            lambda r: f"/admin/snippets/stories/person/edit/{r['private person'].pk}/",
            [PRIVATE_PERSON],
            404,
        ),
        ("the consent records", lambda r: "/admin/snippets/stories/consent/", [PRIVATE_TITLE], 200),
        ("the people", lambda r: "/admin/snippets/stories/person/", [PRIVATE_PERSON], 200),
        ("the people chooser", lambda r: "/admin/snippets/choose/stories/person/results/", [PRIVATE_PERSON], 200),
    ],
)
def test_a_private_storys_records_are_sealed_to_its_own_communitys_facilitators(
    client, roles, what, url, names_it, status
):
    """Private means administrators only: A's facilitator is answered 404 for the record, or a list without it; the
    administrator's view is the control."""
    url = url(roles)

    response = get(client, roles["of_a"], url)
    assert response.status_code == status and not names(response, names_it)
    assert_shown(get(client, roles["administrator"], url), names_it)


def test_a_person_in_a_private_story_too_is_shown_without_it(client, roles):
    """Marisol also takes part in the private story: her usage page names the story A's facilitator works on, and
    only "(Private story)" for the sealed one, as Wagtail does for a page the user may not edit."""
    url = f"/admin/snippets/stories/person/usage/{roles['person'].pk}/"

    usage = text(get(client, roles["of_a"], url))
    assert TITLE in usage and PRIVATE_TITLE not in usage
    assert PRIVATE_TITLE in text(get(client, roles["administrator"], url)), "control"


def test_a_private_storys_correction_note_is_sealed(client, roles):
    note = CorrectionRequest.objects.create(story=roles["private"], note="Sealed note about the letter")
    url = f"/admin/snippets/stories/correctionrequest/edit/{note.pk}/"

    assert_refused(get(client, roles["of_a"], url), ["Sealed note about the letter"])
    assert_shown(get(client, roles["administrator"], url), ["Sealed note about the letter"])


# Withdrawals keep the community of the story they emptied --------------------------------------------------------


def test_a_withdrawal_stays_its_communitys_once_the_storys_shell_is_gone(client, roles):
    withdrawal = roles["withdrawal"]
    assert withdrawal.community == roles["a"]
    withdrawal.story.delete()
    url = f"/admin/snippets/stories/withdrawal/inspect/{withdrawal.pk}/"

    assert_refused(get(client, roles["of_b"], url), [str(withdrawal)])
    assert_shown(get(client, roles["of_a"], url), [str(withdrawal)])


def test_a_private_storys_withdrawal_is_sealed(client, roles):
    withdrawal = story_withdraw(story=roles["private"], requested_by="facilitator")
    url = f"/admin/snippets/stories/withdrawal/inspect/{withdrawal.pk}/"

    assert_refused(get(client, roles["of_a"], url), [str(withdrawal)])
    assert_shown(get(client, roles["administrator"], url), [str(withdrawal)])


# Forms: a field pointing at a community record offers, and accepts, only those within reach -----------------------


def story_form_data(client, user, story):
    client.force_login(user)
    return edit_form_data(client, story)


def test_a_story_cannot_be_moved_to_another_community_by_posting_its_id(client, roles):
    """Negative test: A's facilitator posts B's community on A's story: a form error, not a saved draft; the
    administrator posting the same is the control."""
    story = roles["story"]
    url = reverse("wagtailadmin_pages:edit", args=[story.pk])
    data = story_form_data(client, roles["of_a"], story)
    data["community"] = str(roles["b"].pk)

    refused = client.post(url, data)

    assert refused.status_code == 200
    assert "Select a valid choice" in text(refused)
    assert StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object().community == roles["a"]

    data = story_form_data(client, roles["administrator"], story)
    data["community"] = str(roles["b"].pk)
    assert client.post(url, data).status_code == 302
    assert StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object().community == roles["b"]


def test_a_new_story_cannot_be_put_in_another_community(client, roles):
    index = roles["story"].get_parent()
    url = reverse("wagtailadmin_pages:add", args=["stories", "storypage", index.pk])
    client.force_login(roles["of_a"])
    data = querydict_from_html(text(client.get(url)), form_id="page-edit-form")
    data.update({"title": "A new story", "slug": "a-new-story", "language": "en"})
    data.update(nested_form_data({"body": streamfield([])}))

    data["community"] = str(roles["b"].pk)
    refused = client.post(url, data)
    assert refused.status_code == 200 and "Select a valid choice" in text(refused)
    assert not StoryPage.objects.filter(slug="a-new-story").exists()

    data["community"] = str(roles["a"].pk)
    assert client.post(url, data).status_code == 302, "control: their own community is accepted"
    assert StoryPage.objects.get(slug="a-new-story").community == roles["a"]


def test_a_story_cannot_take_another_communitys_person_or_dialogue(client, roles):
    story = roles["story"]
    url = reverse("wagtailadmin_pages:edit", args=[story.pk])
    tobias = Person.objects.get(display_name="Tobias Wren")
    data = story_form_data(client, roles["of_a"], story)
    data["participants-0-person"] = str(tobias.pk)
    data["dialogue"] = str(DialogueFactory(title="River dialogue", community=roles["b"]).pk)

    refused = client.post(url, data)

    assert refused.status_code == 200
    assert text(refused).count("Select a valid choice") == 2
    assert [p.person for p in story.get_latest_revision_as_object().participants.all()] == [roles["person"]]


def test_a_story_form_offers_its_community_from_the_users_communities_only(client, roles):
    """The story's community chooser, and the form behind it."""
    results = "/admin/snippets/choose/stories/community/results/"

    assert "Elm Street" not in text(get(client, roles["of_b"], results))
    assert "Elm Street" in text(get(client, roles["of_a"], results)), "control"


FORGED = {
    "invite": {"label": "Forged"},
    "dialogue": {"title": "Forged"},
    "consent": {"given_by": "Forged"},
    "person": {"display_name": "Forged"},
}


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (
            "invite",
            lambda r: {"community": r["b"].pk, "label": "Forged", "expires_at": "2030-01-01 10:00", "max_uses": 5},
        ),
        ("dialogue", lambda r: {"title": "Forged", "community": r["b"].pk}),
        (
            "consent",
            lambda r: {
                "story": r["river"].pk,
                "person": r["person"].pk,
                "given_by": "Forged",
                "given_at": "2026-05-01 10:00",
                "method": Consent.Method.SIGNED_FORM,
                "scope": Consent.Scope.PUBLIC,
            },
        ),
        ("person", lambda r: {"display_name": "Forged", "community": r["b"].pk}),
    ],
)
def test_a_facilitator_cannot_add_a_record_to_another_community(client, roles, model, data):
    """Negative test: posting B's community (or story) by hand is a form error and nothing is saved."""
    client.force_login(roles["of_a"])
    url = f"/admin/snippets/stories/{model}/add/"

    response = client.post(url, data(roles))

    assert response.status_code == 200
    assert "Select a valid choice" in text(response)
    assert not apps.get_model("stories", model).objects.filter(**FORGED[model]).exists()


def test_a_person_a_facilitator_adds_is_theirs_at_once(client, roles):
    """Recorded in the facilitator's community (their only one, offered first), before any story names them."""
    client.force_login(roles["of_a"])
    form = client.get("/admin/snippets/stories/person/add/").context["form"]
    assert form.initial["community"] == roles["a"].pk
    assert list(form.fields["community"].queryset) == [roles["a"]]

    assert client.post("/admin/snippets/stories/person/add/", {"display_name": "Juniper Hale"}).status_code == 200, (
        "a facilitator must say which community"
    )
    response = client.post(
        "/admin/snippets/stories/person/add/", {"display_name": "Juniper Hale", "community": roles["a"].pk}
    )
    assert response.status_code == 302
    juniper = Person.objects.get(display_name="Juniper Hale")
    url = f"/admin/snippets/stories/person/edit/{juniper.pk}/"
    assert_shown(get(client, roles["of_a"], url), ["Juniper Hale"])
    assert_refused(get(client, roles["of_b"], url), ["Juniper Hale"])


def test_people_sent_through_an_invite_are_recorded_in_its_community(roles):
    from stories.services.intake import StorytellerEntry, story_submit

    story, _ = story_submit(
        invite=roles["invite"],
        title="Sent through the link",
        storytellers=[StorytellerEntry(display_name="Wren Teller", birth_year=1970, role="storyteller")],
        language="en",
        themes=[],
        text="We met at the gathering.",
        consent_wording="I agree.",
    )

    assert Person.objects.get(display_name="Wren Teller").community == roles["a"]


# The upgrade --------------------------------------------------------------------------------------------------------


def test_the_upgrade_keeps_every_person_and_withdrawal_where_it_was(roles):
    """Migration 0018: people and withdrawals made before it have no community; it records each from their stories,
    so that every facilitator is shown exactly the people they were shown before, and keeps them once no story names
    them. A person only in a private story, or in none, stays with administrators."""
    orphan = PersonFactory(display_name="Nobody's yet")
    Person.objects.update(community=None)
    Withdrawal.objects.update(community=None)
    users = [roles["of_a"], roles["of_b"], roles["administrator"]]
    before = {user: set(records_for(user, Person)) for user in users}
    assert roles["withdrawal"] not in set(records_for(roles["of_a"], Withdrawal)), "control: not yet A's"

    MIGRATION.record_communities(apps, None)

    assert {user: set(records_for(user, Person)) for user in users} == before
    assert Person.objects.get(pk=roles["person"].pk).community == roles["a"]
    assert Person.objects.get(display_name="Tobias Wren").community == roles["b"]
    assert Person.objects.get(pk=roles["private person"].pk).community is None, "a private story gives nobody"
    assert Person.objects.get(pk=orphan.pk).community is None
    assert set(records_for(roles["of_a"], Withdrawal)) == {roles["withdrawal"]}
    assert list(records_for(roles["of_b"], Withdrawal)) == []


def test_the_upgrade_keeps_a_person_with_their_community_once_no_story_names_them(roles):
    Person.objects.update(community=None)
    MIGRATION.record_communities(apps, None)

    roles["story"].participants.all().delete()
    roles["story"].consents.all().delete()
    roles["private"].participants.all().delete()
    roles["private"].consents.all().delete()

    assert roles["person"] in set(records_for(roles["of_a"], Person))


def test_the_upgrade_step_can_run_twice(roles):
    MIGRATION.record_communities(apps, None)
    MIGRATION.record_communities(apps, None)

    assert Person.objects.get(pk=roles["person"].pk).community == roles["a"]


# The one definition --------------------------------------------------------------------------------------------------


def test_every_community_record_has_one_definition_of_its_communities(roles):
    """Each kind of record the admin shows belongs to communities through RECORD_BELONGING, per role."""
    kinds = {"person", "consent", "dialogue", "invite", "correction note", "withdrawal"}
    for kind in kinds:
        record = roles[kind]
        assert record._meta.label_lower in RECORD_BELONGING
        assert record in set(records_for(roles["of_a"], type(record))), kind
        assert record not in set(records_for(roles["of_b"], type(record))), kind
        assert record in set(records_for(roles["administrator"], type(record))), kind
        assert list(records_for(AnonymousUser(), type(record))) == [], kind
