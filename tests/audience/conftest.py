"""Stories with recordings of known length, and a way to send the player's beacon as a browser would."""

import json

import pytest

from audience import playable, tally
from audience.models import StoryListeningDay, StoryStretchListens
from stories.factories import PersonFactory, public_story
from stories.models import StoryMedia

BEACON = "/listened"


def recording(*, seconds: float | None = 45.0) -> StoryMedia:
    """A recording row of the given length (45 s: stretches 0 to 4); these tests read pages, so no file exists."""
    return StoryMedia.objects.create(
        file="recordings/story.ogg",
        size=10,
        sha256="0" * 64,
        container="ogg",
        audio_codec="opus",
        content_type="audio/ogg",
        duration_seconds=seconds,
    )


def send_beacon(client, body, *, content_type="text/plain;charset=UTF-8", **headers):
    """POST what navigator.sendBeacon sends: a string body (text/plain) from this archive's own page."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers.setdefault("HTTP_SEC_FETCH_SITE", "same-origin")
    return client.post(BEACON, data=data, content_type=content_type, **headers)


def stored_figures(story_id: int | None = None) -> tuple[int, int, int]:
    """(plays, stretches heard, stretch listens) written so far, after handing over what the tally holds."""
    tally.flush()
    days = StoryListeningDay.objects.all()
    stretches = StoryStretchListens.objects.all()
    if story_id is not None:
        days, stretches = days.filter(story_id=story_id), stretches.filter(story_id=story_id)
    return (
        sum(days.values_list("plays", flat=True)),
        sum(days.values_list("stretches_heard", flat=True)),
        sum(stretches.values_list("listens", flat=True)),
    )


@pytest.fixture(autouse=True)
def empty_tally():
    """Each test starts with nothing counted in this process, and reads the stored answer afresh; what a test leaves
    is dropped, not written."""
    tally.discard()
    playable.forget_all()
    yield
    tally.discard()
    playable.forget_all()


@pytest.fixture
def heard_story():
    """A public story with a 45-second recording."""
    return public_story(title="The bus at dawn", people=[PersonFactory(birth_year=1950)], recording=recording())
