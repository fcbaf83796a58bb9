"""Checks that the podcast feeds follow the visibility rule, for the consent property test and the tests here.

assert_feeds_follow_the_rule(client, expected, paths): every community's, theme's and open collection's feed parses
cleanly and lists exactly the stories in `expected` (the ids the rule allows now) that belong to it and have a
recording ready to hear (an access copy on disk), and no feed holds the address of a story the rule hides.
"""

from urllib.parse import urlsplit

import feedparser

from stories.models import CollectionEntry, CollectionPage, Community, StoryPage, Theme, private_storage

FEED_SIZE = 500


def feed_paths() -> dict[str, object]:
    """Every feed's address, with what it is about."""
    feeds = {f"{community.get_absolute_url()}feed.xml": community for community in Community.objects.all()}
    feeds |= {f"{theme.get_absolute_url()}feed.xml": theme for theme in Theme.objects.all()}
    feeds |= {f"/collections/{c.slug}/feed.xml": c for c in CollectionPage.open_to_public()}
    return feeds


def ready_to_hear(story_ids) -> set[int]:
    """Those of these stories whose recording has its access copy on disk."""
    storage = private_storage()
    stories = (
        StoryPage.objects.filter(pk__in=story_ids, recording__isnull=False)
        .exclude(recording__access_copy="")
        .values_list("pk", "recording__access_copy")
    )
    return {pk for pk, name in stories if storage.exists(name)}


def belonging_to(subject, expected: set[int]) -> set[int]:
    if isinstance(subject, Community):
        members = StoryPage.objects.filter(pk__in=expected, community=subject).values_list("pk", flat=True)
    elif isinstance(subject, Theme):
        members = StoryPage.objects.filter(pk__in=expected, themes=subject).values_list("pk", flat=True)
    else:
        members = CollectionEntry.objects.filter(page=subject, story_id__in=expected).values_list("story_id", flat=True)
    return ready_to_hear(set(members))


def listed_ids(feed, paths: dict[int, str]) -> list[int]:
    by_path = {path: pk for pk, path in paths.items()}
    ids = []
    for entry in feed.entries:
        path = urlsplit(entry.link).path
        assert path in by_path, f"a feed item links to {entry.link}, which is no story"
        ids.append(by_path[path])
    return ids


def assert_feeds_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    hidden_paths = [path for pk, path in paths.items() if pk not in expected]
    shown_recordings = set(StoryPage.objects.filter(pk__in=expected).values_list("recording_id", flat=True))
    hidden_recordings = {
        str(media_id)
        for media_id in StoryPage.objects.exclude(pk__in=expected).values_list("recording_id", flat=True)
        if media_id and media_id not in shown_recordings
    }
    for address, subject in feed_paths().items():
        response = client.get(address)
        assert response.status_code == 200, f"{address} answers {response.status_code}"
        feed = feedparser.parse(response.content)
        assert not feed.bozo, f"{address} is not a well-formed feed: {feed.get('bozo_exception')}"
        listed = listed_ids(feed, paths)
        assert len(listed) == len(set(listed)), f"{address} lists a story twice"
        should = belonging_to(subject, expected)
        assert set(listed) <= expected, f"{address} lists a story the rule hides"
        assert len(listed) == min(len(should), FEED_SIZE), f"{address} lists {len(listed)} stories, not {len(should)}"
        assert set(listed) == should or len(should) > FEED_SIZE, f"{address} lists other stories than the rule allows"
        text = response.content.decode()
        for path in hidden_paths:
            assert path not in text, f"{address} holds {path}, the address of a story the rule hides"
        for media_id in hidden_recordings:
            assert media_id not in text, f"{address} holds the recording of a story the rule hides"
