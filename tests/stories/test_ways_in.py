"""The ways in: /communities/, /themes/ and /collections/, each in the main navigation, counting public stories only."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction

from stories.factories import CollectionEntryFactory, CollectionPageFactory, CommunityFactory, public_story, theme
from stories.models import CollectionPage, Consent, StoryPage, Visibility

PUBLIC = 25  # more than a page of stories


def counts(client, url: str) -> dict[str, int]:
    html = client.get(url).content.decode()
    return {slug: int(n) for slug, n in re.findall(r'data-slug="([^"]+)".*?data-story-count="(\d+)"', html, re.S)}


@pytest.fixture
def archive():
    """Twenty-five public stories in one community, theme and collection, and one hidden story for each cause."""
    community = CommunityFactory(name="Mill Creek", slug="mill-creek", place="Ohio")
    housing = theme("humane-housing")
    collection = CollectionPageFactory(title="Homes", slug="homes")
    stories = [public_story(title=f"Home {n}", community=community, themes=[housing]) for n in range(PUBLIC)]
    hidden = [public_story(title=f"Hidden {n}", community=community, themes=[housing]) for n in range(5)]
    # Each hidden the way the archive's own writes hide a story, through the models that announce it.
    hidden[0].unpublish()
    for story, change in zip(
        hidden[1:4],
        [
            {"visibility": Visibility.PRIVATE},
            {"embargo_until": timezone.localdate() + datetime.timedelta(days=9)},
            {"withdrawn_at": timezone.now()},
        ],
        strict=True,
    ):
        for name, value in change.items():
            setattr(story, name, value)
        story.save()
    for consent in Consent.objects.filter(story=hidden[4]):
        consent.scope = Consent.Scope.RESEARCH
        consent.save()
    for order, story in enumerate(stories[:3] + hidden):
        CollectionEntryFactory(page=collection, story=story, sort_order=order)
    return community, housing, collection


def test_each_index_counts_only_the_stories_the_public_may_see(client, archive):
    community, housing, collection = archive
    # Control: the hidden stories are there, in the same community, theme and collection, to be miscounted.
    assert StoryPage.objects.filter(community=community).count() == PUBLIC + 5
    assert StoryPage.objects.filter(themes=housing).count() == PUBLIC + 5
    assert collection.entries.count() == 3 + 5

    assert counts(client, reverse("stories:communities"))["mill-creek"] == PUBLIC
    assert counts(client, reverse("stories:themes"))["humane-housing"] == PUBLIC
    assert counts(client, reverse("stories:collections"))["homes"] == 3
    html = client.get(reverse("stories:communities")).content.decode()
    assert "25 public stories" in html and "Ohio" in html and 'href="/communities/mill-creek/"' in html


def test_a_theme_or_community_without_public_stories_says_so(client, archive):
    theme("lifelong-learning")

    html = client.get(reverse("stories:themes")).content.decode()

    assert counts(client, reverse("stories:themes"))["lifelong-learning"] == 0
    assert "No public stories yet" in html


def test_a_restricted_or_unpublished_collection_is_not_listed(client, archive):
    _community, _housing, collection = archive
    draft = CollectionPageFactory(title="Draft", slug="draft")
    draft.unpublish()
    PageViewRestriction.objects.create(page=collection, restriction_type="password", password="elders")

    listed = counts(client, reverse("stories:collections"))

    assert "homes" not in listed and "draft" not in listed
    assert "No collections yet" in client.get(reverse("stories:collections")).content.decode()
    assert not CollectionPage.open_to_public().exists()


def test_the_main_navigation_leads_to_every_way_in(client, archive):
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', client.get("/").content.decode(), re.S).group(1)

    for url in ("/stories/", "/communities/", "/themes/", "/collections/", "/search/"):
        assert f'href="{url}"' in nav
        assert client.get(url).status_code == 200, url


def test_the_api_lists_the_same_ways_in_with_the_same_counts(client, archive):
    communities = {c["slug"]: c for c in client.get("/api/communities").json()}
    themes = {t["slug"]: t["public_stories"] for t in client.get("/api/themes").json()}
    collections = {c["slug"]: c for c in client.get("/api/collections").json()}

    assert communities["mill-creek"] == {
        "slug": "mill-creek", "name": "Mill Creek", "place": "Ohio", "public_stories": PUBLIC,
        "url": "http://testserver/communities/mill-creek/",
    }  # fmt: skip
    assert themes["humane-housing"] == PUBLIC
    assert collections["homes"]["public_stories"] == 3
    assert collections["homes"]["url"] == "http://testserver/homes/"


def test_the_api_leaves_out_a_collection_the_public_may_not_open(client, archive):
    _community, _housing, collection = archive
    PageViewRestriction.objects.create(page=collection, restriction_type="password", password="elders")

    assert client.get("/api/collections").json() == []
