"""A browser or a podcast app finds the feeds from the pages: every story page links its community's and its themes'
feeds, and each listing links its own."""

import re

import feedparser

from stories.factories import theme

from .conftest import build_archive

FEED_LINK = re.compile(r'<link rel="alternate" type="application/rss\+xml" href="([^"]+)" title="([^"]+)">')


def test_a_story_page_links_the_feeds_it_is_in_and_each_is_a_feed(client):
    story = build_archive(1)[0]
    story.themes.add(theme("lifelong-learning"))
    story.save()  # a page writes its themes when it is saved

    links = FEED_LINK.findall(client.get(story.url).content.decode())

    assert links == [
        ("/communities/harbor-point/feed.xml", "Harbor Point: podcast"),
        ("/themes/humane-housing/feed.xml", "Humane housing: podcast"),
        ("/themes/lifelong-learning/feed.xml", "Lifelong learning: podcast"),
    ]
    for address, _ in links:
        response = client.get(address)
        assert response.status_code == 200
        assert not feedparser.parse(response.content).bozo


def test_community_theme_and_collection_pages_link_their_own_feed(client):
    build_archive(1)
    for page, feed in (
        ("/communities/harbor-point/", "/communities/harbor-point/feed.xml"),
        ("/themes/humane-housing/", "/themes/humane-housing/feed.xml"),
        ("/voices-of-the-harbour/", "/collections/voices-of-the-harbour/feed.xml"),
    ):
        (link,) = FEED_LINK.findall(client.get(page).content.decode())
        assert link[0] == feed
        assert client.get(feed).status_code == 200
