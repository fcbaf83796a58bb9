"""The public pages show public stories, and only those."""

import datetime

from stories.factories import (
    CollectionEntryFactory,
    CollectionPageFactory,
    CommunityFactory,
    PersonFactory,
    StoryPageFactory,
    public_story,
    theme,
)
from stories.models import HomePage, Visibility


def test_home_lists_recent_public_stories_themes_and_a_search_box(client):
    public_story(title="The garden")
    public_story(title="Kept back", visibility=Visibility.PRIVATE)

    html = client.get("/").content.decode()

    assert "The garden" in html
    assert "Kept back" not in html
    assert "Humane housing" in html and "Belonging and civic muscle" in html
    assert 'action="/search/"' in html


def test_home_shows_the_featured_collection(client):
    collection = CollectionPageFactory(title="Finding home")
    home = HomePage.objects.get()
    home.featured_collection = collection
    home.save()

    assert "Finding home" in client.get("/").content.decode()


def test_story_page_shows_display_names_generations_and_themes_but_never_full_names(client):
    person = PersonFactory(display_name="Rosa M.", full_name="Rosa Secretname", birth_year=1948)
    story = public_story(title="The garden", people=[person], themes=[theme("humane-housing")])

    response = client.get(story.url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rosa M." in html and "Baby Boomers" in html and "Humane housing" in html
    assert "Secretname" not in html and "1948" not in html


def test_hidden_story_page_is_not_found_for_the_public(client):
    story = public_story(title="Private tale", visibility=Visibility.PRIVATE)

    response = client.get(story.url)

    assert response.status_code == 404
    assert "Private tale" not in response.content.decode()
    assert "We could not find that page" in response.content.decode()


def test_editor_can_still_open_a_hidden_story(client, admin_user):
    story = public_story(title="Private tale", visibility=Visibility.PRIVATE)
    client.force_login(admin_user)

    response = client.get(story.url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_community_and_theme_pages_list_only_public_stories(client):
    riverside = CommunityFactory(name="Riverside")
    public_story(title="Bus stories", community=riverside, themes=[theme("reliable-transportation")])
    StoryPageFactory(title="Unconsented", community=riverside, themes=[theme("reliable-transportation")])

    community_html = client.get("/communities/riverside/").content.decode()
    theme_html = client.get("/themes/reliable-transportation/").content.decode()

    for html in (community_html, theme_html):
        assert "Bus stories" in html
        assert "Unconsented" not in html


def test_collection_plays_public_stories_in_order_from_their_start_times(client):
    collection = CollectionPageFactory(title="Getting there")
    first = public_story(title="First ride")
    hidden = public_story(title="Withdrawn ride", embargo_until=datetime.date(2999, 1, 1))
    second = public_story(title="Second ride")
    CollectionEntryFactory(page=collection, story=first, sort_order=0, start_seconds=135, note="Listen for the bell")
    CollectionEntryFactory(page=collection, story=hidden, sort_order=1)
    CollectionEntryFactory(page=collection, story=second, sort_order=2)

    html = client.get(collection.url).content.decode()

    assert html.index("First ride") < html.index("Second ride")
    assert f"{first.url}?t=135" in html and "Listen from 02:15" in html and "Listen for the bell" in html
    assert "Withdrawn ride" not in html


def test_unknown_page_gets_the_friendly_not_found_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_an_unknown_address_below_the_home_page_the_story_index_or_a_story_is_not_found_either(client):
    """The home page's route takes a page it only passes on as its own type: what is not there is still not found."""
    story = public_story(title="The garden")
    index = story.get_parent()

    for address in ("/no-such-page/deeper/", f"{index.url}no-such-story/", f"{story.url}no-such-part/"):
        response = client.get(address)
        assert response.status_code == 404, address
        assert "We could not find that page" in response.content.decode()
    assert client.get(story.url).status_code == 200
