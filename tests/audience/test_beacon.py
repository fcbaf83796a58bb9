"""The listening beacon (POST /listened): what it counts, what it refuses, and what it never keeps."""

import itertools
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audience.models import StoryListeningDay, StoryStretchListens
from stories.factories import PersonFactory, StoryPageFactory, public_story
from stories.models import StoryPage, Visibility
from stories.services.withdrawal import story_withdraw

from .conftest import BEACON, recording, send_beacon, stored_figures

# A fresh address per call, so a long property run is never stopped by the flood limit it is not testing.
_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


def assert_beacon_follows_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """A beacon for a story the rule hides is refused and stores nothing; one for a story it allows is taken (a
    written story, with nothing to play, is refused either way)."""
    with_recording = set(StoryPage.objects.filter(pk__in=paths, recording__isnull=False).values_list("pk", flat=True))
    for story_id in paths:
        before = stored_figures(story_id)
        response = send_beacon(
            client, {"story": story_id, "stretches": [0], "play": True}, REMOTE_ADDR=next(_addresses)
        )
        after = stored_figures(story_id)
        if story_id in expected and story_id in with_recording:
            assert response.status_code == 202, (story_id, paths[story_id], response.content)
            assert after == (before[0] + 1, before[1] + 1, before[2] + 1), (story_id, paths[story_id])
        else:
            assert response.status_code == 404, (story_id, paths[story_id], response.status_code)
            assert after == before, f"a beacon for hidden story {story_id} ({paths[story_id]}) was stored"


def test_a_beacon_is_counted_as_plays_stretches_and_minutes(client, heard_story):
    response = send_beacon(client, {"story": heard_story.pk, "stretches": [0, 1, 2], "play": True})
    assert response.status_code == 202
    send_beacon(client, {"story": heard_story.pk, "stretches": [3]})  # the same play goes on

    assert stored_figures(heard_story.pk) == (1, 4, 4)
    day = StoryListeningDay.objects.get(story=heard_story)
    assert day.minutes == pytest.approx(40 / 60)
    assert dict(StoryStretchListens.objects.values_list("stretch", "listens")) == {0: 1, 1: 1, 2: 1, 3: 1}


def test_two_batches_add_up(client, heard_story):
    send_beacon(client, {"story": heard_story.pk, "stretches": [0], "play": True})
    stored_figures()
    send_beacon(client, {"story": heard_story.pk, "stretches": [0], "play": True})
    assert stored_figures(heard_story.pk) == (2, 2, 2)
    assert StoryStretchListens.objects.get(story=heard_story, stretch=0).listens == 2


@pytest.mark.parametrize(
    ("case", "body", "status", "says"),
    [
        ("not JSON", "{story: 1", 400, "not JSON"),
        ("a list, not an object", "[1, 2]", 400, "wrong shape"),
        ("an unknown key", {"story": 0, "stretches": [0], "listener": "abc"}, 400, "wrong shape"),
        ("no story", {"stretches": [0]}, 400, "wrong shape"),
        ("story as text", {"story": "1", "stretches": [0]}, 400, "story must be"),
        ("story as true", {"story": True, "stretches": [0]}, 400, "story must be"),
        ("a negative stretch", {"story": 0, "stretches": [-1]}, 400, "whole numbers from 0"),
        ("a fractional stretch", {"story": 0, "stretches": [1.5]}, 400, "whole numbers from 0"),
        ("a stretch named twice", {"story": 0, "stretches": [1, 1]}, 400, "each stretch once"),
        ("too many stretches", {"story": 0, "stretches": list(range(61))}, 400, "at most 60"),
        ("play not a boolean", {"story": 0, "stretches": [0], "play": "yes"}, 400, "play must be"),
        ("an empty report", {"story": 0, "stretches": []}, 400, "says nothing"),
    ],
)
def test_a_malformed_report_is_refused_with_a_clear_message(client, heard_story, case, body, status, says):
    if isinstance(body, dict) and body.get("story") == 0:
        body["story"] = heard_story.pk
    response = send_beacon(client, body)
    assert response.status_code == status, case
    assert says in response.json()["detail"], case
    assert stored_figures() == (0, 0, 0), case


def test_an_unknown_story_is_refused(client, heard_story):
    response = send_beacon(client, {"story": heard_story.pk + 1000, "stretches": [0], "play": True})
    assert response.status_code == 404
    assert response.json() == {"detail": "No story with a recording here."}
    assert stored_figures() == (0, 0, 0)


@pytest.mark.parametrize("hidden_by", ["unpublished", "private", "withdrawn", "consent withdrawn", "embargoed"])
def test_a_hidden_story_is_refused_as_if_it_did_not_exist(client, heard_story, hidden_by):
    import datetime

    from stories.models import Consent

    if hidden_by == "unpublished":
        heard_story.unpublish()
    elif hidden_by == "private":
        heard_story.visibility = Visibility.PRIVATE
        heard_story.save_revision().publish()
    elif hidden_by == "withdrawn":
        story_withdraw(story=heard_story, requested_by="storyteller")
    elif hidden_by == "consent withdrawn":
        for consent in Consent.objects.filter(story=heard_story):
            consent.withdrawn_at = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
            consent.save()
    else:
        heard_story.embargo_until = datetime.date(2099, 1, 1)
        heard_story.save_revision().publish()

    response = send_beacon(client, {"story": heard_story.pk, "stretches": [0], "play": True})
    assert response.status_code == 404, hidden_by
    assert response.json() == {"detail": "No story with a recording here."}
    assert stored_figures() == (0, 0, 0)


def test_a_written_story_without_a_recording_is_refused(client):
    written = public_story(title="A letter", people=[PersonFactory()])
    response = send_beacon(client, {"story": written.pk, "stretches": [0], "play": True})
    assert response.status_code == 404
    assert stored_figures() == (0, 0, 0)


def test_a_stretch_past_the_end_of_the_recording_is_refused(client, heard_story):
    """45 seconds are stretches 0 to 4; stretch 5 would start at 50 s."""
    assert send_beacon(client, {"story": heard_story.pk, "stretches": [4], "play": True}).status_code == 202
    stored_figures()
    response = send_beacon(client, {"story": heard_story.pk, "stretches": [3, 5], "play": True})
    assert response.status_code == 400
    assert "Stretch 5 is past the end of the recording, which has 5 stretches" in response.json()["detail"]
    assert stored_figures(heard_story.pk) == (1, 1, 1), "nothing of the refused report was counted"


def test_a_recording_of_unknown_length_takes_no_stretch_past_the_longest_recording(client):
    story = public_story(people=[PersonFactory()], recording=recording(seconds=None))
    assert send_beacon(client, {"story": story.pk, "stretches": [1439]}).status_code == 202
    assert send_beacon(client, {"story": story.pk, "stretches": [1440]}).status_code == 400


def test_a_report_sent_as_a_form_is_refused(client, heard_story):
    response = send_beacon(client, f"story={heard_story.pk}", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "as JSON" in response.json()["detail"]


def test_an_oversized_report_is_refused(client, heard_story):
    body = json.dumps({"story": heard_story.pk, "stretches": [0]}) + " " * 5000
    response = send_beacon(client, body)
    assert response.status_code == 413
    assert stored_figures() == (0, 0, 0)


def test_a_report_by_get_is_refused(client):
    assert client.get(BEACON).status_code == 405


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_SEC_FETCH_SITE": "cross-site"}, {"HTTP_SEC_FETCH_SITE": "same-site"}, {"HTTP_ORIGIN": "https://elsewhere"}],
    ids=["cross-site", "same-site", "another origin"],
)
def test_a_report_from_another_site_is_refused(client, heard_story, headers):
    """No CSRF token can ride on a beacon, so another site's page cannot add to the counts either."""
    response = send_beacon(client, {"story": heard_story.pk, "stretches": [0], "play": True}, **headers)
    assert response.status_code == 403
    assert "this archive's own pages" in response.json()["detail"]
    assert stored_figures() == (0, 0, 0)


def test_a_report_from_this_sites_own_origin_is_taken(client, heard_story):
    """The control for the refusal above: the page's own origin passes."""
    response = send_beacon(
        client, {"story": heard_story.pk, "stretches": [0], "play": True}, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 202


def test_a_flood_from_one_client_is_refused_once_over_the_limit(client, heard_story, settings):
    settings.AUDIENCE_BEACON_LIMIT_PER_MINUTE = 3
    body = {"story": heard_story.pk, "stretches": [0], "play": True}
    statuses = [send_beacon(client, body, REMOTE_ADDR="198.51.100.7").status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    assert "at most 3 a minute" in send_beacon(client, body, REMOTE_ADDR="198.51.100.7").json()["detail"]
    assert send_beacon(client, body, REMOTE_ADDR="198.51.100.8").status_code == 202, "another client is not held up"
    assert stored_figures(heard_story.pk)[0] == 4


@pytest.mark.parametrize("header", ["HTTP_DNT", "HTTP_SEC_GPC"], ids=["Do Not Track", "Global Privacy Control"])
def test_do_not_track_and_global_privacy_control_store_nothing(client, heard_story, header):
    body = {"story": heard_story.pk, "stretches": [0, 1], "play": True}
    response = send_beacon(client, body, **{header: "1"})
    assert response.status_code == 204
    assert stored_figures() == (0, 0, 0)

    control = send_beacon(client, body)  # the same request without the signal
    assert control.status_code == 202
    assert stored_figures(heard_story.pk) == (1, 2, 2)


def test_no_address_user_agent_cookie_or_identifier_is_kept(client, heard_story):
    address, agent = "203.0.113.77", "Distinctive-Agent/9.9"
    client.cookies["sessionid"] = "a-visitors-session"
    response = send_beacon(
        client,
        {"story": heard_story.pk, "stretches": [0], "play": True},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT=agent,
    )
    assert response.status_code == 202
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert response.content == b""

    stored_figures()
    for model in (StoryListeningDay, StoryStretchListens):
        columns = {field.column for field in model._meta.concrete_fields}
        assert columns <= {"id", "story_id", "day", "plays", "stretches_heard", "stretch", "listens"}
        for row in model.objects.values_list():
            assert not {address, agent, "a-visitors-session"} & {str(value) for value in row}
    held = repr(list(cache._cache.items())) + repr(list(cache._cache.keys()))  # the rate limit's key is a hash
    assert address not in held and agent not in held
    assert any(key.startswith(":1:audience:beacons:") for key in cache._cache), "control: the limit is in the cache"


def test_a_beacon_makes_no_write_to_the_database_until_the_batch_is_full(client, heard_story, settings):
    settings.AUDIENCE_FLUSH_EVERY = 3
    body = {"story": heard_story.pk, "stretches": [0], "play": True}
    with CaptureQueriesContext(connection) as queries:
        for _ in range(2):
            assert send_beacon(client, body).status_code == 202
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    # One read in all: the stored answer about the story, with its length, the first time it is heard.
    assert len(queries) == 1
    assert StoryListeningDay.objects.count() == 0

    send_beacon(client, body)  # the third fills the batch: all three are written together
    assert StoryListeningDay.objects.get(story=heard_story).plays == 3


def test_counts_held_for_a_story_withdrawn_before_the_batch_is_written_are_dropped(client, heard_story):
    send_beacon(client, {"story": heard_story.pk, "stretches": [0], "play": True})
    story_withdraw(story=heard_story, requested_by="storyteller")
    assert stored_figures() == (0, 0, 0)


def test_the_beacon_follows_the_visibility_rule(client, heard_story):
    hidden = StoryPageFactory(title="Not yet consented", recording=recording(), participants=[PersonFactory()])
    written = public_story(title="A letter", people=[PersonFactory()])
    paths = {heard_story.pk: heard_story.url, hidden.pk: hidden.url, written.pk: written.url}
    assert_beacon_follows_the_rule(client, {heard_story.pk, written.pk}, paths)
    assert stored_figures(heard_story.pk) == (1, 1, 1)
    with pytest.raises(AssertionError):  # control: the check fails when it is told the hidden story is allowed
        assert_beacon_follows_the_rule(client, {heard_story.pk, hidden.pk}, paths)


@pytest.fixture
def this_process_not_yet_told():
    """As in a web process that has not yet heard of a change: the beacon's held answer is not forgotten, and the
    shared version it reads does not move."""
    from stories.signals import stories_hidden, story_visibility_changed

    stories_hidden.disconnect(dispatch_uid="audience-playable-hidden")
    story_visibility_changed.disconnect(dispatch_uid="audience-playable-changed")
    yield
    from audience import receivers

    receivers.connect()


@pytest.mark.parametrize("hidden_by", ["unpublished", "consent withdrawn without a word to the stored answer"])
def test_a_play_taken_on_a_stale_answer_for_a_story_hidden_since_is_not_stored(
    client, heard_story, hidden_by, this_process_not_yet_told
):
    """The beacon answers from the stored answer as its process last read it; the rule, asked when the batch is
    written, keeps a story hidden after that read out of the figures."""
    import datetime

    from stories.models import Consent

    still_public = public_story(title="The ferry", people=[PersonFactory()], recording=recording())
    for story in (heard_story, still_public):  # both read and held by this process
        assert send_beacon(client, {"story": story.pk, "stretches": [0]}).status_code == 202
    tally_before_hiding = stored_figures()
    assert tally_before_hiding == (0, 2, 2)

    if hidden_by == "unpublished":
        heard_story.unpublish()
    else:
        Consent.objects.filter(story=heard_story).update(
            withdrawn_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
        )
    assert not StoryPage.objects.visible_to_public().filter(pk=heard_story.pk).exists()

    stale = send_beacon(client, {"story": heard_story.pk, "stretches": [1], "play": True})
    assert stale.status_code == 202, "the held answer was stale: the report was taken"
    control = send_beacon(client, {"story": still_public.pk, "stretches": [1], "play": True})
    assert control.status_code == 202

    assert stored_figures(heard_story.pk) == (0, 1, 1), "only what was heard while it was public"
    assert stored_figures(still_public.pk) == (1, 2, 2), "control: the public story's play in the same batch is kept"


def test_an_answer_read_while_another_thread_followed_a_change_is_not_held(client, heard_story, monkeypatch):
    """The beacon's threads share one process's held answers. A story read while another thread learned of a change
    (the shared version moved on mid-read) may have been read from before it: the report is answered, the answer not
    kept, and the next report reads the story again."""
    from audience import playable

    real_read, reads = playable._read, []

    def read_while_another_thread_follows(story_id):
        reads.append(story_id)
        answer = real_read(story_id)
        if len(reads) == 1:  # another thread meanwhile reads the version a change moved on, and follows it
            moved_on = playable._new_version()
            cache.set(playable.VERSION_KEY, moved_on, timeout=None)
            playable._follow(moved_on)
        return answer

    monkeypatch.setattr(playable, "_read", read_while_another_thread_follows)
    for _ in range(3):
        assert send_beacon(client, {"story": heard_story.pk, "stretches": [0]}).status_code == 202

    assert reads == [heard_story.pk, heard_story.pk], "read again after the change, then held"


def test_a_hidden_story_is_refused_at_once_by_the_process_that_hid_it(client, heard_story):
    """The control for the stale answer above: told of the change, the process answers 404 straight away."""
    assert send_beacon(client, {"story": heard_story.pk, "stretches": [0]}).status_code == 202
    heard_story.unpublish()
    response = send_beacon(client, {"story": heard_story.pk, "stretches": [1], "play": True})
    assert response.status_code == 404
    assert response.json() == {"detail": "No story with a recording here."}


def test_a_story_shown_after_a_refusal_is_heard(client, heard_story):
    heard_story.unpublish()
    assert send_beacon(client, {"story": heard_story.pk, "stretches": [0]}).status_code == 404
    heard_story.save_revision().publish()
    assert send_beacon(client, {"story": heard_story.pk, "stretches": [0], "play": True}).status_code == 202
    assert stored_figures(heard_story.pk) == (1, 1, 1)


def test_stretches_past_the_end_of_a_recording_shortened_since_are_not_stored(client, heard_story):
    """The held length may be behind too: the writer keeps only stretches inside the recording as it is now."""
    from stories.models import StoryMedia

    assert send_beacon(client, {"story": heard_story.pk, "stretches": [0]}).status_code == 202
    StoryMedia.objects.filter(pk=heard_story.recording_id).update(duration_seconds=15.0)  # stretches 0 and 1
    assert send_beacon(client, {"story": heard_story.pk, "stretches": [1, 3], "play": True}).status_code == 202
    stored_figures()
    assert dict(StoryStretchListens.objects.filter(story=heard_story).values_list("stretch", "listens")) == {
        0: 1,
        1: 1,
    }
