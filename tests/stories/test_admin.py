"""The admin lets facilitators keep the archive's records, and refuses impossible values with a message."""

import datetime

import pytest

from stories.factories import CommunityFactory, DialogueFactory, PersonFactory
from stories.models import Community, Person, Theme


def test_facilitator_adds_a_person_through_the_admin(client, facilitator):
    """A person is recorded in one of the facilitator's communities (tests/stories/test_facilitator_records.py)."""
    community = CommunityFactory(name="Elm Street")
    client.force_login(facilitator)

    response = client.post(
        "/admin/snippets/stories/person/add/",
        {"display_name": "Rosa M.", "full_name": "Rosa Maria", "birth_year": "1948", "community": community.pk},
    )

    assert response.status_code == 302
    person = Person.objects.get(display_name="Rosa M.")
    assert person.generation.slug == "boomers"
    assert person.community == community


def test_a_birth_year_in_the_future_is_refused_with_a_message_and_nothing_saved(client, facilitator):
    client.force_login(facilitator)
    next_year = datetime.date.today().year + 1

    response = client.post(
        "/admin/snippets/stories/person/add/", {"display_name": "Time traveller", "birth_year": str(next_year)}
    )

    assert response.status_code == 200
    assert "A birth year cannot be in the future" in response.content.decode()
    assert not Person.objects.filter(display_name="Time traveller").exists()


def test_facilitators_do_not_manage_communities(client, facilitator):
    client.force_login(facilitator)

    response = client.post("/admin/snippets/stories/community/add/", {"name": "New place", "slug": "new-place"})

    assert response.status_code in (302, 403)
    assert not Community.objects.filter(slug="new-place").exists()


def test_administrator_adds_a_community(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/snippets/stories/community/add/", {"name": "Cedar Hollow", "slug": "cedar-hollow", "place": "Ohio"}
    )

    assert response.status_code == 302
    assert Community.objects.filter(slug="cedar-hollow").exists()


@pytest.mark.parametrize(
    ("model", "make", "found"),
    [
        ("person", lambda: PersonFactory(display_name="Ruth Okafor", full_name="Ruth A. Okafor"), "Ruth Okafor"),
        ("community", lambda: CommunityFactory(name="Elm Street", place="Springfield"), "Elm Street"),
        ("dialogue", lambda: DialogueFactory(title="Kitchen table talk"), "Kitchen table talk"),
        ("theme", lambda: Theme.objects.create(name="Gardens we keep", slug="gardens-we-keep"), "Gardens we keep"),
    ],
)
def test_searching_an_admin_list_finds_the_record_on_either_database(client, admin_user, model, make, found):
    """The admin's lists search their named fields in the database itself: a search backend that cannot search named
    fields (SQLite's) answered 500 for the people and communities lists."""
    make()
    PersonFactory(display_name="Someone else")
    client.force_login(admin_user)

    response = client.get(f"/admin/snippets/stories/{model}/", {"q": found.split()[0].lower()})

    assert response.status_code == 200
    assert found in response.content.decode()
    assert "Someone else" not in response.content.decode(), "the search narrowed the list"
