"""A redaction, or its undo, changes what an episode's captions read without touching the transcript's row: the feed
says it changed (Last-Modified), so a podcast app asking "changed since?" fetches the captions again."""

import datetime

import time_machine
from django.utils.http import http_date

from stories.models import StoryMedia
from tests.transcription.recordings import finished_transcript
from transcription import services
from transcription.models import Redaction

from .conftest import build_archive

FEED = "/communities/harbor-point/feed.xml"


def test_a_redaction_and_its_undo_each_move_the_feeds_last_modified(client, facilitator):
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        stories = build_archive(3)
        media = stories[-1].recording
        finished_transcript([(0.0, 2.0, "We built the seawall.")], media=media)
    with time_machine.travel(start + datetime.timedelta(seconds=5), tick=False):
        first = client.get(FEED)
        assert first["Last-Modified"] == http_date(start.timestamp())
    with time_machine.travel(start + datetime.timedelta(seconds=9), tick=False):
        # The control: nothing changed, so an app asking since then is told so.
        assert client.get(FEED, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    with time_machine.travel(start + datetime.timedelta(seconds=10), tick=False):
        services.redaction_create(media=media, start=0.5, end=1.5, reason="Names a neighbour", user=facilitator)
        # The worker has made the copy again (its job is not run here): the episode is back, as long as before.
        copy = StoryMedia.objects.filter(pk=media.pk).values_list("access_copy", flat=True).get()
        assert copy == ""
        StoryMedia.objects.filter(pk=media.pk).update(access_copy=media.access_copy.name)
    with time_machine.travel(start + datetime.timedelta(seconds=15), tick=False):
        redacted = client.get(FEED, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert redacted.status_code == 200
        assert redacted["Last-Modified"] == http_date(start.timestamp() + 10)

    with time_machine.travel(start + datetime.timedelta(seconds=20), tick=False):
        services.redaction_undo(redaction=Redaction.objects.get(), user=facilitator)
    with time_machine.travel(start + datetime.timedelta(seconds=25), tick=False):
        restored = client.get(FEED, HTTP_IF_MODIFIED_SINCE=redacted["Last-Modified"])
        assert restored.status_code == 200
        assert restored["Last-Modified"] == http_date(start.timestamp() + 20)
