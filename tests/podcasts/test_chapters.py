"""A podcast app finds an episode's chapters through podcast:chapters, on the episodes whose recording has chapters and
only those, and reads them as a JSON chapters file; the feed's cost does not grow with the chapters."""

import json

import feedparser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from stories.factories import ChapterFactory, public_story
from stories.models import Visibility
from tests.stories.test_chapters import assert_chapters_follow_the_rule, assert_json_chapters_shape

from .conftest import build_archive, public_ids, recording, story_paths
from .rule_checks import assert_feeds_follow_the_rule, listed_ids

PODCAST = "{https://podcastindex.org/namespace/1.0}"
ARCHIVE = 30  # more than a listing page of 20
FEEDS = (
    "/communities/harbor-point/feed.xml",
    "/themes/humane-housing/feed.xml",
    "/collections/voices-of-the-harbour/feed.xml",
)


def chaptered(stories, every: int = 3) -> set[int]:
    """Give every `every`th story two chapters; their ids."""
    ids = set()
    for n, story in enumerate(stories):
        if n % every == 0:
            ChapterFactory(story=story, start_seconds=0, title=f"Arriving {n}")
            ChapterFactory(story=story, start_seconds=42, end_seconds=60, title=f"The storm {n}")
            ids.add(story.pk)
    return ids


def chapters_by_story(response, paths) -> dict[int, list]:
    """Each item's story id and its podcast:chapters elements."""
    by_path = {path: pk for pk, path in paths.items()}
    found = {}
    for item in etree.fromstring(response.content).iter("item"):
        path = item.findtext("link").removeprefix("http://testserver")
        found[by_path[path]] = item.findall(f"{PODCAST}chapters")
    return found


def test_only_episodes_with_chapters_link_them_and_each_link_is_a_json_chapters_file(client):
    stories = build_archive(ARCHIVE)
    with_chapters = chaptered(stories)
    paths = story_paths()
    for address in FEEDS:
        response = client.get(address)
        feed = feedparser.parse(response.content)
        assert not feed.bozo, feed.get("bozo_exception")
        listed = listed_ids(feed, paths)
        assert listed, f"control: {address} has episodes"
        found = chapters_by_story(response, paths)
        assert {pk for pk, elements in found.items() if elements} == with_chapters & set(listed), address
        for story_id, elements in found.items():
            if not elements:
                continue
            (element,) = elements  # one an episode, in the item (the namespace's rule: count single, parent item)
            assert element.getparent().tag == "item"
            assert dict(element.attrib) == {
                "url": f"http://testserver{paths[story_id]}chapters.json",
                "type": "application/json+chapters",
            }
            served = client.get(element.get("url").removeprefix("http://testserver"))
            assert served.status_code == 200 and served["Content-Type"] == "application/json+chapters"
            document = json.loads(served.content)
            assert_json_chapters_shape(document)
            n = [story.pk for story in stories].index(story_id)
            assert document["chapters"] == [
                {"startTime": 0, "title": f"Arriving {n}"},
                {"startTime": 42, "endTime": 60, "title": f"The storm {n}"},
            ]
    assert_feeds_follow_the_rule(client, public_ids(), paths)
    assert_chapters_follow_the_rule(client, public_ids(), paths)


def test_a_hidden_storys_chapters_leave_the_feed_with_it(client):
    stories = build_archive(4)
    chaptered(stories, every=1)
    hidden = stories[1]
    address = "/communities/harbor-point/feed.xml"
    paths = story_paths()
    before = client.get(address)
    assert f"{paths[hidden.pk]}chapters.json" in before.content.decode(), "control: its chapters are linked"

    hidden.visibility = Visibility.PRIVATE
    hidden.save()

    after = client.get(address).content.decode()
    assert paths[hidden.pk] not in after
    assert client.get(f"{paths[hidden.pk]}chapters.json").status_code == 404
    assert_chapters_follow_the_rule(client, public_ids(), story_paths())


def test_a_feed_costs_the_same_queries_however_many_episodes_have_chapters(client):
    """Whether an episode has chapters is read with the episodes, never story by story."""

    def queries_for_the_feed() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/communities/harbor-point/feed.xml").status_code == 200
        return len(captured)

    stories = build_archive(2)
    ChapterFactory(story=stories[0], start_seconds=0, title="Arriving")
    queries_for_the_feed()  # the site's root paths are cached by the first request
    few = queries_for_the_feed()
    for n in range(10):
        story = public_story(community=stories[0].community, recording=recording())
        if n % 2:
            ChapterFactory(story=story, start_seconds=0, title="Arriving")
    body = client.get("/communities/harbor-point/feed.xml").content.decode()
    assert body.count("chapters.json") == 6, "control: the chapters are in the feed"
    assert queries_for_the_feed() == few
