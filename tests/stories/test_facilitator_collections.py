"""Collections belong to the communities of their stories, and the site's structure (the home page, the story index)
is the administrators': per role, what each admin address answers."""

import pytest
from django.contrib.auth.models import AnonymousUser
from wagtail.test.utils.form_data import rich_text

from stories.factories import CollectionEntryFactory, CollectionPageFactory, CommunityFactory, public_story
from stories.models import CollectionPage, HomePage, StoryIndexPage, Visibility
from stories.permissions import OPEN_ON_STRUCTURE, collections_for
from tests.stories.test_facilitator_communities import assert_refused, assert_shown, get, make_facilitator

TITLE = "Orchard voices of Elm Street"
MIXED_TITLE = "Orchard and mill remember the flood"
EMPTY_TITLE = "Gathering for the spring"


def collection_of(title, *stories, owner=None, revised_by=None):
    collection = CollectionPageFactory(title=title, owner=owner)
    for order, story in enumerate(stories):
        CollectionEntryFactory(page=collection, story=story, sort_order=order)
    if revised_by is not None:
        collection.save_revision(user=revised_by)
    return collection


@pytest.fixture
def roles(django_user_model, admin_user):
    """A collection of community A's stories, one mixing A's and B's, an empty one A's facilitator made; a facilitator
    of A, one of B, an administrator."""
    a, b = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    of_a = make_facilitator(django_user_model, "facilitator-of-a", a)
    of_b = make_facilitator(django_user_model, "facilitator-of-b", b)
    story_a = public_story(title="Elm garden", community=a)
    story_b = public_story(title="River mill", community=b)
    return {
        "a": a,
        "b": b,
        "story_a": story_a,
        "story_b": story_b,
        "collection": collection_of(TITLE, story_a, revised_by=admin_user),
        "mixed": collection_of(MIXED_TITLE, story_a, story_b, revised_by=admin_user),
        "empty": collection_of(EMPTY_TITLE, owner=of_a, revised_by=of_a),
        "of_a": of_a,
        "of_b": of_b,
        "administrator": admin_user,
    }


PAGE_URLS = {
    "edit": lambda page: f"/admin/pages/{page.pk}/edit/",
    "preview of the draft": lambda page: f"/admin/pages/{page.pk}/view_draft/",
    "history": lambda page: f"/admin/pages/{page.pk}/history/",
    "a revision": lambda page: f"/admin/pages/{page.pk}/revisions/{page.latest_revision_id}/view/",
    "revisions compared": lambda page: f"/admin/pages/{page.pk}/revisions/compare/earliest...latest/",
    "move": lambda page: f"/admin/pages/{page.pk}/move/",
    "delete": lambda page: f"/admin/pages/{page.pk}/delete/",
    "unpublish": lambda page: f"/admin/pages/{page.pk}/unpublish/",
    "copy": lambda page: f"/admin/pages/{page.pk}/copy/",
    "bulk unpublish": lambda page: f"/admin/bulk/wagtailcore/page/unpublish/?id={page.pk}",
    "bulk delete": lambda page: f"/admin/bulk/wagtailcore/page/delete/?id={page.pk}",
}


# Collections ---------------------------------------------------------------------------------------------------------


def test_which_collections_each_role_is_shown(roles):
    assert set(collections_for(roles["administrator"])) == {roles["collection"], roles["mixed"], roles["empty"]}
    assert set(collections_for(roles["of_a"])) == {roles["collection"], roles["empty"]}, "not the mixed one"
    assert list(collections_for(roles["of_b"])) == []
    assert list(collections_for(AnonymousUser())) == []


@pytest.mark.parametrize("name", [*PAGE_URLS])
def test_a_facilitator_of_another_community_is_refused_a_collection_of_as_stories_and_learns_nothing(
    client, roles, name
):
    """Negative test: B's facilitator gets 404 and no title; A's facilitator and the administrator are the control."""
    url = PAGE_URLS[name](roles["collection"])

    assert_refused(get(client, roles["of_b"], url), TITLE)
    assert_shown(get(client, roles["of_a"], url), TITLE)
    assert_shown(get(client, roles["administrator"], url), TITLE)


@pytest.mark.parametrize("name", [*PAGE_URLS])
def test_anonymous_visitors_are_sent_to_sign_in_from_a_collection(client, roles, name):
    response = get(client, None, PAGE_URLS[name](roles["collection"]))

    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert TITLE not in response.content.decode()


@pytest.mark.parametrize("name", ["edit", "preview of the draft", "a revision", "move", "delete", "bulk delete"])
def test_a_collection_mixing_communities_is_the_administrators(client, roles, name):
    """Negative test: A's facilitator reaches one of its stories, not the other; the administrator is the control."""
    url = PAGE_URLS[name](roles["mixed"])

    assert_refused(get(client, roles["of_a"], url), MIXED_TITLE)
    assert_refused(get(client, roles["of_b"], url), MIXED_TITLE)
    assert_shown(get(client, roles["administrator"], url), MIXED_TITLE)


def test_a_collection_with_a_private_story_is_the_administrators(client, roles):
    story = roles["story_a"]
    type(story).objects.filter(pk=story.pk).update(visibility=Visibility.PRIVATE)
    url = PAGE_URLS["edit"](roles["collection"])

    assert_refused(get(client, roles["of_a"], url), TITLE)
    assert_shown(get(client, roles["administrator"], url), TITLE)


def test_an_empty_collection_is_its_creators(client, roles):
    url = PAGE_URLS["edit"](roles["empty"])

    assert_refused(get(client, roles["of_b"], url), EMPTY_TITLE)
    assert_shown(get(client, roles["of_a"], url), EMPTY_TITLE)
    assert_shown(get(client, roles["administrator"], url), EMPTY_TITLE)


def collection_form(title: str, slug: str, story) -> dict:
    """The collection page's form in the admin, as posted with one story entered."""
    return {
        "title": title,
        "slug": slug,
        "intro": rich_text(""),
        "curator": "",
        "entries-TOTAL_FORMS": "1",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
        "entries-0-story": str(story.pk),
        "entries-0-note": "",
        "entries-0-start_seconds": "",
        "entries-0-end_seconds": "",
        "entries-0-ORDER": "1",
        "entries-0-id": "",
        "entries-0-DELETE": "",
    }


def test_a_facilitator_creates_a_collection_and_keeps_it(client, roles):
    """The one who makes a collection works on it before and after choosing its stories."""
    home = HomePage.objects.get()
    client.force_login(roles["of_a"])
    form = collection_form("New in Elm Street", "new-in-elm-street", roles["story_a"])

    response = client.post(f"/admin/pages/add/stories/collectionpage/{home.pk}/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    made = CollectionPage.objects.get(slug="new-in-elm-street")
    assert_shown(get(client, roles["of_a"], PAGE_URLS["edit"](made)), "New in Elm Street")
    assert_refused(get(client, roles["of_b"], PAGE_URLS["edit"](made)), "New in Elm Street")


def test_a_facilitator_cannot_save_a_draft_taking_a_collection_beyond_their_reach(client, roles):
    """Negative test: B's story, posted by hand into A's collection, is "Select a valid choice" and is not kept."""
    collection = roles["collection"]
    client.force_login(roles["of_a"])
    form = collection_form(TITLE, collection.slug, roles["story_b"])

    response = client.post(PAGE_URLS["edit"](collection), form)

    assert "Select a valid choice" in response.content.decode()
    collection.refresh_from_db()
    assert collection in collections_for(roles["of_a"])
    assert collection not in collections_for(roles["of_b"])


@pytest.mark.parametrize(
    ("where", "url", "others"),
    [
        ("the explorer", lambda home: f"/admin/pages/{home.pk}/", 51),
        ("the explorer's search", lambda home: f"/admin/pages/{home.pk}/?q=Orchard", 1),
        ("the admin's page search", lambda home: "/admin/pages/search/?q=Orchard", 1),
        ("the page chooser", lambda home: f"/admin/choose-page/{home.pk}/", 51),
        ("the page chooser's search", lambda home: "/admin/choose-page/search/?q=Orchard", 1),
    ],
)
def test_listings_and_choosers_offer_only_the_facilitators_own_collections(client, roles, where, url, others):
    """Negative test; the listings among more of B's collections than a listing's page holds (Wagtail lists 50): B's
    facilitator is never shown A's collection; A's facilitator finds it on the first page, the administrator on one
    of the two."""
    for number in range(others):
        collection_of(f"Orchard evening {number}", roles["story_b"])
    url = url(HomePage.objects.get())

    def listed(user):
        first = get(client, user, url).content.decode()
        return first + get(client, user, url + ("&" if "?" in url else "?") + "p=2").content.decode()

    assert TITLE not in listed(roles["of_b"])
    assert MIXED_TITLE not in listed(roles["of_a"]), "a mixed collection is not listed to A's facilitator"
    assert TITLE in get(client, roles["of_a"], url).content.decode(), "control: A's facilitator sees it listed"
    assert "Orchard evening" in get(client, roles["of_b"], url).content.decode(), "control: B sees their own"
    assert TITLE in listed(roles["administrator"])
    assert MIXED_TITLE in listed(roles["administrator"])


def test_a_facilitator_of_another_community_cannot_unpublish_or_delete_a_collection(client, roles):
    """Negative test: the posts do nothing; A's facilitator's unpublish is the control."""
    collection = roles["collection"]
    client.force_login(roles["of_b"])

    assert client.post(PAGE_URLS["unpublish"](collection)).status_code == 404
    assert client.post(PAGE_URLS["delete"](collection)).status_code == 404
    collection.refresh_from_db()
    assert collection.live

    client.force_login(roles["of_a"])
    client.post(PAGE_URLS["unpublish"](collection))
    collection.refresh_from_db()
    assert not collection.live, "control"


# The site's structure ------------------------------------------------------------------------------------------------

STRUCTURE_URLS = {name: PAGE_URLS[name] for name in ("move", "delete", "unpublish", "copy", "edit")}
BULK_ACTIONS = ["move", "delete", "unpublish"]


def structure(kind):
    return (HomePage if kind == "home page" else StoryIndexPage).objects.get()


def refused_structure(response):
    """Wagtail answers a refused action by sending the user to the dashboard with a message."""
    return response.status_code in (403, 404) or (response.status_code == 302 and response.url == "/admin/")


@pytest.mark.parametrize("kind", ["home page", "story index"])
@pytest.mark.parametrize("name", [*STRUCTURE_URLS])
def test_a_facilitator_cannot_move_delete_unpublish_or_copy_the_sites_structure(client, roles, kind, name):
    """Negative test, for a facilitator of any community; the administrator's view is the control."""
    url = STRUCTURE_URLS[name](structure(kind))

    assert refused_structure(get(client, roles["of_a"], url))
    assert refused_structure(get(client, roles["of_b"], url))
    assert get(client, roles["administrator"], url).status_code == 200


@pytest.mark.parametrize("kind", ["home page", "story index"])
def test_posting_a_move_delete_or_unpublish_of_the_structure_leaves_it_in_place(client, roles, kind):
    """Negative test: the posts themselves, not only the forms, are refused; the pages stay where they were."""
    page = structure(kind)
    elsewhere = roles["collection"] if kind == "story index" else structure("story index")
    client.force_login(roles["of_a"])

    client.post(STRUCTURE_URLS["unpublish"](page))
    client.post(STRUCTURE_URLS["delete"](page))
    client.post(f"/admin/pages/{page.pk}/move/{elsewhere.pk}/confirm/")

    moved = type(page).objects.get(pk=page.pk)
    assert (moved.live, moved.path, moved.url_path) == (True, page.path, page.url_path)


@pytest.mark.parametrize("kind", ["home page", "story index"])
@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_a_facilitators_bulk_action_leaves_the_structure_alone(client, roles, kind, action):
    """Negative test: the bulk confirmation offers the facilitator nothing to act on and the post changes nothing;
    the administrator is offered it (control)."""
    page = structure(kind)
    url = f"/admin/bulk/wagtailcore/page/{action}/?id={page.pk}"
    client.force_login(roles["of_a"])

    confirmation = client.get(url).content.decode()
    client.post(url)

    assert "You don't have permission" in confirmation
    moved = type(page).objects.get(pk=page.pk)
    assert (moved.live, moved.path) == (True, page.path)
    assert "You don't have permission" not in get(client, roles["administrator"], url).content.decode()


def test_every_structural_check_but_adding_beneath_is_the_administrators(roles):
    """Every can_* of the page permission tester, this Wagtail version's and later ones', on both structural pages."""
    for page in (structure("home page"), structure("story index")):
        facilitator = page.permissions_for_user(roles["of_a"])
        administrator = page.permissions_for_user(roles["administrator"])
        checks = [name for name in dir(facilitator) if name.startswith("can_")]
        arguments = {"can_move_to": [roles["collection"]], "can_copy_to": [roles["collection"]]}

        allowed = {name for name in checks if getattr(facilitator, name)(*arguments.get(name, []))}

        assert allowed <= OPEN_ON_STRUCTURE
        assert facilitator.can_add_subpage(), "facilitators still add stories and collections beneath"
        assert administrator.can_move() and administrator.can_delete() and administrator.can_unpublish(), "control"


def test_a_facilitator_still_adds_a_story_under_the_story_index(client, roles):
    index = structure("story index")

    response = get(client, roles["of_b"], f"/admin/pages/add/stories/storypage/{index.pk}/")

    assert response.status_code == 200
