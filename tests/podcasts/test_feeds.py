"""Podcast apps follow a community, a theme or a collection at its address followed by feed.xml, and hear every public
story with a recording, with its captions; a story that stops being public leaves every feed at once."""

import datetime
import re
import uuid

import feedparser
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date
from lxml import etree

from stories.factories import CollectionPageFactory, PersonFactory, StoryPageFactory, public_story, theme
from stories.models import StoryPage, Visibility
from stories.services import story_withdraw
from tests.transcription.recordings import finished_transcript

from .conftest import build_archive, public_ids, recording, story_paths
from .rule_checks import assert_feeds_follow_the_rule, listed_ids

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
# The Podcasting 2.0 namespace's documented transcript types (docs/tags/transcript.md).
TRANSCRIPT_TYPES = {"text/plain", "text/html", "text/vtt", "application/json", "application/x-subrip"}
ARCHIVE = 30  # more than a listing page of 20


def fetch(client, address, **headers):
    response = client.get(address, **headers)
    assert response.status_code in (200, 304), response.status_code
    return response


def parsed(response):
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_a_community_feed_has_every_public_recorded_story_newest_first_with_its_enclosure(client):
    stories = build_archive(ARCHIVE)
    community = stories[0].community
    written = public_story(title="A written story", community=community)
    preparing = public_story(title="Still being prepared", community=community, recording=recording(ready=False))
    private = public_story(
        title="Kept in the family", community=community, recording=recording(), visibility=Visibility.PRIVATE
    )
    finished_transcript([(0.0, 2.0, "We built the seawall.")], media=stories[-1].recording, language="es")

    response = fetch(client, "/communities/harbor-point/feed.xml")
    feed = parsed(response)

    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert feed.version == "rss20"
    assert feed.feed.title == "Harbor Point · Story Archive"
    assert feed.feed.link == "http://testserver/communities/harbor-point/"
    assert feed.feed.language == "en"
    assert feed.feed.author == "Story Archive"
    assert feed.feed.itunes_explicit is not True  # feedparser reads Apple's current "false" as unknown
    assert {tag.term for tag in feed.feed.tags} == {"Society & Culture", "Documentary"}
    ids = listed_ids(feed, story_paths())
    assert ids == [story.pk for story in reversed(stories)], "every recorded public story, newest first"
    assert not {written.pk, preparing.pk, private.pk} & set(ids)

    newest = feed.entries[0]
    story = stories[-1]
    assert newest.title == "Harbour story 29"
    assert newest.summary == "Told at the dialogue, number 29."
    assert newest.link == f"http://testserver{story.url_path.removeprefix('/home')}"
    assert newest.id == f"urn:uuid:{story.translation_key}", "a guid that outlives a new title"
    assert newest.guidislink is False
    assert newest.published == http_date(story.first_published_at.timestamp())
    assert newest.itunes_duration == "61"
    (enclosure,) = newest.enclosures
    assert enclosure.href == f"http://testserver/recordings/{story.recording_id}/access"
    assert enclosure.length == str(1000 + 29)
    assert enclosure.type == "audio/mp4"
    assert client.get(f"/recordings/{story.recording_id}/access").status_code == 200, "the enclosure plays"

    document = etree.fromstring(response.content)
    items = document.findall("channel/item")
    captions = items[0].findall(f"{PODCAST}transcript")
    assert [(c.get("type"), c.get("rel"), c.get("language")) for c in captions] == [
        ("text/vtt", "captions", "es"),
        ("application/x-subrip", "captions", "es"),
    ]
    for caption in captions:
        path = caption.get("url").removeprefix("http://testserver")
        assert client.get(path).status_code == 200, f"{path} is served"
    assert items[1].findall(f"{PODCAST}transcript") == [], "no transcript, no link"
    assert_feeds_follow_the_rule(client, public_ids(), story_paths())


def test_theme_and_collection_feeds_list_their_own_stories(client):
    stories = build_archive(8)
    elsewhere = public_story(title="A school story", themes=[theme("lifelong-learning")], recording=recording())

    housing = parsed(fetch(client, "/themes/humane-housing/feed.xml"))
    assert listed_ids(housing, story_paths()) == [story.pk for story in reversed(stories)]
    learning = parsed(fetch(client, "/themes/lifelong-learning/feed.xml"))
    assert listed_ids(learning, story_paths()) == [elsewhere.pk]

    collection = parsed(fetch(client, "/collections/voices-of-the-harbour/feed.xml"))
    assert listed_ids(collection, story_paths()) == [story.pk for story in reversed(stories[:5])], "curator's order"
    assert collection.feed.title == "Voices of the harbour · Story Archive"
    assert collection.feed.itunes_type == "serial"
    assert [entry.itunes_episode for entry in collection.entries] == ["1", "2", "3", "4", "5"]
    assert_feeds_follow_the_rule(client, public_ids(), story_paths())


def test_a_withdrawn_story_leaves_every_feed_at_once(client):
    stories = build_archive(ARCHIVE)
    story = stories[2]  # in the community, the theme and the collection
    addresses = [
        "/communities/harbor-point/feed.xml",
        "/themes/humane-housing/feed.xml",
        "/collections/voices-of-the-harbour/feed.xml",
    ]
    paths = story_paths()  # a withdrawal renames the story's address
    before = {address: listed_ids(parsed(fetch(client, address)), paths) for address in addresses}
    etags = {address: client.get(address)["ETag"] for address in addresses}
    for ids in before.values():
        assert story.pk in ids, "control: the story is in every feed"

    story_withdraw(story=story, requested_by="storyteller")

    for address in addresses:
        response = fetch(client, address, HTTP_IF_NONE_MATCH=etags[address])
        assert response.status_code == 200, f"{address} must not tell a podcast app nothing changed"
        ids = listed_ids(parsed(response), story_paths())
        assert story.pk not in ids
        assert ids == [pk for pk in before[address] if pk != story.pk]
        assert "Harbour story 2<" not in response.content.decode()
    assert_feeds_follow_the_rule(client, public_ids(), story_paths())


@pytest.mark.parametrize("change", ["private", "unpublished", "consent withdrawn"])
def test_a_story_that_stops_being_public_leaves_the_feeds(client, change):
    stories = build_archive(3)
    story = stories[1]
    if change == "private":
        story.visibility = Visibility.PRIVATE
        story.save()
    elif change == "unpublished":
        story.unpublish()
    else:
        consent = story.consents.get()
        consent.withdrawn_at = datetime.datetime.now(datetime.UTC)
        consent.save()
    for address in ("/communities/harbor-point/feed.xml", "/themes/humane-housing/feed.xml"):
        assert story.pk not in listed_ids(parsed(fetch(client, address)), story_paths())
    assert_feeds_follow_the_rule(client, public_ids(), story_paths())


def test_never_public_stories_are_in_no_feed(client):
    build_archive(2)
    community = StoryPage.objects.first().community
    for n, fields in enumerate(({"visibility": Visibility.PRIVATE}, {"embargo_until": datetime.date(2099, 1, 1)})):
        public_story(title=f"Not for now {n}", community=community, recording=recording(), **fields)
    StoryPageFactory(title="Nobody agreed", community=community, recording=recording(), participants=[PersonFactory()])
    body = fetch(client, "/communities/harbor-point/feed.xml").content.decode()
    assert "Not for now" not in body and "Nobody agreed" not in body
    assert_feeds_follow_the_rule(client, public_ids(), story_paths())


def test_a_feed_answers_conditional_requests_and_may_be_kept_only_to_ask_again(client):
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        build_archive(3)
    address = "/communities/harbor-point/feed.xml"
    with time_machine.travel(start + datetime.timedelta(seconds=5)):
        first = fetch(client, address)
        assert first["Cache-Control"] == "no-cache"
        assert first["ETag"] and first["Last-Modified"] == http_date(start.timestamp())

        again = fetch(client, address, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == first["ETag"]
        assert fetch(client, address, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    with time_machine.travel(start + datetime.timedelta(seconds=5, milliseconds=300), tick=False):
        public_story(title="A new story", community=StoryPage.objects.first().community, recording=recording())
        same_second = fetch(client, address)
        assert "Last-Modified" not in same_second, "no date while its second may still bring a change"
        assert fetch(client, address, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    with time_machine.travel(start + datetime.timedelta(seconds=9)):
        later = fetch(client, address, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert later.status_code == 200 and later["Last-Modified"] == http_date(start.timestamp() + 5)


def test_a_feed_holds_the_newest_stories_up_to_its_size(client, monkeypatch):
    monkeypatch.setattr("podcasts.selectors.FEED_SIZE", 4)
    stories = build_archive(6)
    feed = parsed(fetch(client, "/communities/harbor-point/feed.xml"))
    assert listed_ids(feed, story_paths()) == [story.pk for story in reversed(stories[2:])]


def test_feeds_of_what_does_not_exist_or_is_closed_are_not_found(client):
    closed = CollectionPageFactory(title="Only for the family", live=False)
    for address in (
        "/communities/atlantis/feed.xml",
        "/themes/happiness/feed.xml",
        f"/collections/{closed.slug}/feed.xml",
        "/collections/nothing-here/feed.xml",
    ):
        assert client.get(address).status_code == 404, address


def test_the_podcasting_namespace_elements_follow_their_documented_rules(client):
    stories = build_archive(3)
    finished_transcript([(0.0, 2.0, "We built the seawall.")], media=stories[0].recording)
    document = etree.fromstring(fetch(client, "/themes/humane-housing/feed.xml").content)
    channel = document.find("channel")

    # podcast:guid: once, in the channel, a UUIDv5 of the feed's address without its scheme or trailing slash.
    assert uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "podnews.net/rss") == uuid.UUID(
        "9b024349-ccf0-5f69-a609-6b82873eab3c"
    ), "control: the namespace's own example"
    (guid,) = document.iter(f"{PODCAST}guid")
    assert guid.getparent() is channel
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", guid.text)
    assert guid.text == str(
        uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "localhost/themes/humane-housing/feed.xml")
    )

    # podcast:transcript: only in an item, any number, url and type required, type one of the documented ones.
    transcripts = list(document.iter(f"{PODCAST}transcript"))
    assert transcripts, "control: there is a transcript to check"
    for transcript in transcripts:
        assert transcript.getparent().tag == "item"
        assert transcript.get("url", "").startswith("http://testserver/")
        assert transcript.get("type") in TRANSCRIPT_TYPES
        assert set(transcript.attrib) <= {"url", "type", "language", "rel"}
        assert transcript.get("rel") in (None, "captions")
    assert {element.tag for element in document.iter() if element.tag.startswith(PODCAST)} == {
        f"{PODCAST}guid",
        f"{PODCAST}transcript",
    }, "no other Podcasting 2.0 element is written (podcast:chapters only where a recording has chapters: none here)"
    # The itunes: tags a directory reads, each once in the channel.
    for name in ("author", "category", "explicit", "type"):
        assert len(channel.findall(f"{ITUNES}{name}")) == 1, name
    assert channel.find(f"{ITUNES}explicit").text in ("true", "false")


def test_control_the_feed_check_fails_when_a_feed_trusts_a_stale_stored_answer(client, monkeypatch):
    """A write that bypassed the models leaves the stored answer calling a story public: the feeds ask the rule
    again and leave it out; without that second look the story leaks, and the check says so."""
    stories = build_archive(3)
    StoryPage.objects.filter(pk=stories[1].pk).update(visibility=Visibility.PRIVATE)
    expected, paths = public_ids(), story_paths()
    assert_feeds_follow_the_rule(client, expected, paths)

    monkeypatch.setattr("podcasts.selectors.StoryPage.objects.visible_to_public", lambda: StoryPage.objects.all())
    with pytest.raises(AssertionError, match="rule hides"):
        assert_feeds_follow_the_rule(client, expected, paths)


def test_a_feed_costs_the_same_queries_however_many_episodes_it_has(client):
    """Episodes are read together, never story by story."""

    def queries_for_the_feed() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/communities/harbor-point/feed.xml").status_code == 200
        return len(captured)

    stories = build_archive(2)
    finished_transcript([(0.0, 1.0, "Hello.")], media=stories[0].recording)
    queries_for_the_feed()  # the site's root paths are cached by the first request
    few = queries_for_the_feed()
    for _ in range(10):
        story = public_story(community=stories[0].community, recording=recording())
        finished_transcript([(0.0, 1.0, "Hello.")], media=story.recording)
    assert queries_for_the_feed() == few


def test_a_video_story_is_an_episode_with_its_video_access_copy(client):
    community = build_archive(1)[0].community
    video = public_story(title="Walking to school", community=community, recording=recording(video=True))
    feed = parsed(fetch(client, "/communities/harbor-point/feed.xml"))
    (entry,) = [entry for entry in feed.entries if entry.title == "Walking to school"]
    assert entry.enclosures[0].type == "video/mp4"
    assert entry.enclosures[0].href.endswith(f"/recordings/{video.recording_id}/access")
