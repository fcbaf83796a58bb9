"""Facilitators work within their own communities: who works where, and what each role reaches in the admin."""

from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import AnonymousUser, Group

from stories.factories import CommunityFactory, public_story
from stories.models import Community, Visibility
from stories.permissions import communities_for, stories_for
from stories.roles import FACILITATORS, ensure_facilitators_group

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
