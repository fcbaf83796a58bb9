"""The corrector's changes: words, speakers, times, merge and split, each against the version the facilitator saw."""

import json

import pytest
from django.urls import reverse

from stories.factories import PersonFactory, public_story
from tests.transcription.recordings import finished_transcript
from transcription import services
from transcription.models import Segment, Transcript

pytestmark = pytest.mark.django_db

LINES = [(1.0, 3.0, "my grand ma kept"), (3.0, 5.0, "a vegetable garden"), (5.5, 8.0, "behind the house")]


@pytest.fixture
def told():
    """A public story told by Rosa and Jay, with a three-segment transcript of a nine-second recording."""
    transcript = finished_transcript(LINES, duration_seconds=9.0)
    rosa, jay = PersonFactory(display_name="Rosa M.", full_name="Rosa Martínez"), PersonFactory(display_name="Jay")
    story = public_story(recording=transcript.media, people=[rosa, jay])
    return story, transcript, rosa, jay


def segments(transcript):
    return list(transcript.segments.order_by("index").values_list("index", "start", "end", "text", "edited"))


def segment_at(transcript, index) -> Segment:
    return transcript.segments.get(index=index)


def test_a_text_change_is_kept_marks_the_segment_edited_and_counts_a_version(told):
    story, transcript, *_ = told
    changed = services.segment_text_set(
        transcript=transcript, version=0, segment_id=segment_at(transcript, 0).pk, text="  My grandma   kept "
    )
    assert changed.version == 1 and changed.reviewed
    assert segments(transcript)[0] == (0, 1.0, 3.0, "My grandma kept", True)


def test_a_change_against_an_old_version_is_refused_and_changes_nothing(told):
    """Two facilitators at once: the second one's save, made on what they saw before, is refused, not lost silently."""
    story, transcript, *_ = told
    first = segment_at(transcript, 0)
    services.segment_text_set(transcript=transcript, version=0, segment_id=first.pk, text="My grandma kept")

    with pytest.raises(services.TranscriptChanged) as conflict:
        services.segment_text_set(transcript=transcript, version=0, segment_id=first.pk, text="Mi abuela")

    assert conflict.value.version == 1
    assert str(conflict.value) == "Someone else changed this transcript; reload to see their changes."
    assert segment_at(transcript, 0).text == "My grandma kept"


def test_an_empty_segment_is_refused_with_what_to_do(told):
    story, transcript, *_ = told
    with pytest.raises(services.CorrectionRefused, match="cannot be left empty"):
        services.segment_text_set(transcript=transcript, version=0, segment_id=segment_at(transcript, 0).pk, text=" ")
    assert segment_at(transcript, 0).text == "my grand ma kept"


def test_a_speaker_is_one_of_the_storys_participants(told):
    story, transcript, rosa, jay = told
    services.segment_speaker_set(
        transcript=transcript, version=0, segment_id=segment_at(transcript, 1).pk, speaker_id=jay.pk, story=story
    )
    assert segment_at(transcript, 1).speaker == jay


def test_a_person_from_another_story_cannot_be_made_a_speaker(told):
    """Named negative test: the server refuses a speaker who is not a participant of this story."""
    story, transcript, *_ = told
    stranger = PersonFactory(display_name="Someone Else")
    public_story(people=[stranger])
    with pytest.raises(services.CorrectionRefused, match="this story's participants"):
        services.segment_speaker_set(
            transcript=transcript,
            version=0,
            segment_id=segment_at(transcript, 0).pk,
            speaker_id=stranger.pk,
            story=story,
        )
    assert segment_at(transcript, 0).speaker is None
    assert Transcript.objects.get(pk=transcript.pk).version == 0


def test_deleting_the_speaker_leaves_no_name_on_the_segment(told):
    story, transcript, rosa, _ = told
    Segment.objects.filter(pk=segment_at(transcript, 0).pk).update(speaker=rosa)
    story.participants.filter(person=rosa).delete()
    story.consents.filter(person=rosa).delete()
    rosa.delete()
    assert segment_at(transcript, 0).speaker_id is None


def test_nudged_times_stay_between_the_neighbours_and_within_the_recording(told):
    story, transcript, *_ = told
    middle, last = segment_at(transcript, 1), segment_at(transcript, 2)

    services.segment_times_set(transcript=transcript, version=0, segment_id=middle.pk, start=0.2, end=7.0)
    services.segment_times_set(transcript=transcript, version=1, segment_id=last.pk, start=5.4, end=12.0)

    assert segments(transcript) == [
        (0, 1.0, 3.0, "my grand ma kept", False),
        (1, 3.0, 5.5, "a vegetable garden", True),  # after the first segment's end, before the next one's start
        (2, 5.5, 9.0, "behind the house", True),  # not before the middle one's end, not after the recording
    ]


def test_merging_joins_two_segments_keeps_their_words_and_renumbers_the_rest(told):
    story, transcript, rosa, jay = told
    first, second = segment_at(transcript, 0), segment_at(transcript, 1)
    Segment.objects.filter(pk=first.pk).update(words=[{"start": 1.0, "end": 1.5, "word": "my"}])
    Segment.objects.filter(pk=second.pk).update(words=[{"start": 3.2, "end": 3.5, "word": "a"}], speaker=jay)

    services.segments_merge(transcript=transcript, version=0, segment_id=first.pk)

    assert segments(transcript) == [
        (0, 1.0, 5.0, "my grand ma kept a vegetable garden", True),
        (1, 5.5, 8.0, "behind the house", False),
    ]
    merged = segment_at(transcript, 0)
    assert [word["word"] for word in merged.words] == ["my", "a"] and merged.speaker == jay


def test_the_last_segment_has_nothing_to_merge_with(told):
    story, transcript, *_ = told
    with pytest.raises(services.CorrectionRefused, match="no segment after it"):
        services.segments_merge(transcript=transcript, version=0, segment_id=segment_at(transcript, 2).pk)


def test_splitting_at_the_cursor_cuts_the_time_where_the_next_word_starts(told):
    story, transcript, rosa, _ = told
    first = segment_at(transcript, 0)
    words = [
        {"start": 1.0, "end": 1.3, "word": "my"},
        {"start": 1.3, "end": 1.8, "word": "grand"},
        {"start": 1.8, "end": 2.1, "word": "ma"},
        {"start": 2.4, "end": 2.9, "word": "kept"},
    ]
    Segment.objects.filter(pk=first.pk).update(words=words, speaker=rosa)

    services.segment_split(transcript=transcript, version=0, segment_id=first.pk, at=len("my grand ma "))

    assert segments(transcript) == [
        (0, 1.0, 2.4, "my grand ma", True),
        (1, 2.4, 3.0, "kept", True),
        (2, 3.0, 5.0, "a vegetable garden", False),
        (3, 5.5, 8.0, "behind the house", False),
    ]
    before, after = segment_at(transcript, 0), segment_at(transcript, 1)
    assert [w["word"] for w in before.words] == ["my", "grand", "ma"] and [w["word"] for w in after.words] == ["kept"]
    assert before.speaker == rosa and after.speaker == rosa


def test_splitting_text_without_word_timings_divides_the_time_by_length(told):
    story, transcript, *_ = told
    services.segment_split(
        transcript=transcript, version=0, segment_id=segment_at(transcript, 2).pk, at=6, text="behind the house"
    )
    first, second = segment_at(transcript, 2), segment_at(transcript, 3)
    assert (first.text, second.text) == ("behind", "the house")
    assert 5.5 < first.end == second.start < 8.0 and second.end == 8.0


def test_a_split_at_the_edge_of_the_text_says_where_to_put_the_cursor(told):
    story, transcript, *_ = told
    with pytest.raises(services.CorrectionRefused, match="between two words"):
        services.segment_split(transcript=transcript, version=0, segment_id=segment_at(transcript, 0).pk, at=0)
    assert len(segments(transcript)) == 3


def test_a_search_after_a_merge_lands_on_the_merged_moment(told, client, django_capture_on_commit_callbacks):
    """The search index hears of corrections through the transcript's announcement and finds the joined words."""
    from search.services import search_index_rebuild

    story, transcript, *_ = told
    search_index_rebuild()
    with django_capture_on_commit_callbacks(execute=True):
        services.segment_text_set(
            transcript=transcript, version=0, segment_id=segment_at(transcript, 1).pk, text="a vegetable patch"
        )
        services.segments_merge(transcript=transcript, version=1, segment_id=segment_at(transcript, 0).pk)

    hit = next(h for h in client.get("/api/search", {"q": "patch"}).json()["results"] if h["id"] == story.pk)
    assert [(m["start"], m["end"], m["text"]) for m in hit["moments"]] == [
        (1.0, 5.0, "my grand ma kept a vegetable patch")
    ]
    after = next(h for h in client.get("/api/search", {"q": "behind"}).json()["results"] if h["id"] == story.pk)
    assert [m["start"] for m in after["moments"]] == [5.5]  # the segment after the merge keeps its moment


# The admin endpoint the corrector saves through.


@pytest.fixture
def editor(django_user_model, client):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(user)
    return user


def change(client, story, transcript, body, **extra):
    return client.post(
        reverse("transcription_admin:change", args=[story.pk, transcript.pk]),
        json.dumps(body),
        content_type="application/json",
        **extra,
    )


def test_the_endpoint_saves_a_change_and_answers_with_the_new_version(client, editor, told):
    story, transcript, rosa, _ = told
    first = segment_at(transcript, 0)

    answer = change(
        client, story, transcript, {"version": 0, "action": "speaker", "segment": first.pk, "speaker": rosa.pk}
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == 1
    assert body["segments"][0] == {
        "id": first.pk, "start": 1.0, "end": 3.0, "text": "my grand ma kept", "speaker": rosa.pk, "edited": True
    }  # fmt: skip


def test_the_endpoint_answers_409_with_the_message_when_the_version_moved(client, editor, told):
    story, transcript, *_ = told
    first = segment_at(transcript, 0)
    change(client, story, transcript, {"version": 0, "action": "text", "segment": first.pk, "text": "First"})

    late = change(client, story, transcript, {"version": 0, "action": "text", "segment": first.pk, "text": "Second"})

    assert late.status_code == 409
    assert late.json() == {"detail": "Someone else changed this transcript; reload to see their changes.", "version": 1}
    assert segment_at(transcript, 0).text == "First"


def test_the_endpoint_refuses_another_storys_person_as_speaker(client, editor, told):
    """Named negative test: posting a person from another story is a 400 that says why, and nothing is saved."""
    story, transcript, *_ = told
    stranger = PersonFactory(display_name="Someone Else")
    public_story(people=[stranger])
    first = segment_at(transcript, 0)

    answer = change(
        client, story, transcript, {"version": 0, "action": "speaker", "segment": first.pk, "speaker": stranger.pk}
    )

    assert answer.status_code == 400 and "participants" in answer.json()["detail"]
    assert segment_at(transcript, 0).speaker_id is None


@pytest.mark.parametrize(
    "body",
    [{"version": 0, "action": "text"}, {"version": "x", "action": "merge", "segment": 1}, {"action": "dance"}, []],
)
def test_the_endpoint_answers_bad_changes_with_a_clear_400(client, editor, told, body):
    story, transcript, *_ = told
    answer = change(client, story, transcript, body)
    assert answer.status_code == 400 and answer.json()["detail"]
    assert segments(transcript) == [(i, s, e, t, False) for i, (s, e, t) in enumerate(LINES)]


def test_a_segment_of_another_transcript_cannot_be_changed_through_this_one(client, editor, told):
    story, transcript, *_ = told
    other = finished_transcript([(0, 1, "not yours")])
    public_story(recording=other.media)
    foreign = other.segments.get()
    answer = change(client, story, transcript, {"version": 0, "action": "text", "segment": foreign.pk, "text": "mine"})
    assert answer.status_code == 400
    assert other.segments.get().text == "not yours"


def test_someone_who_may_not_edit_the_story_cannot_change_its_transcript(client, django_user_model, facilitator, told):
    """Named negative test: a facilitator without edit rights on the story gets no change made and sees no words."""
    from wagtail.models import GroupPagePermission

    story, transcript, *_ = told
    GroupPagePermission.objects.filter(group__in=facilitator.groups.all()).delete()
    client.force_login(facilitator)
    first = segment_at(transcript, 0)

    answer = change(client, story, transcript, {"version": 0, "action": "text", "segment": first.pk, "text": "Taken"})

    assert answer.status_code in (302, 403, 404)
    assert b"my grand ma" not in answer.content and b"version" not in answer.content
    assert segment_at(transcript, 0).text == "my grand ma kept"
    page = client.get(reverse("transcription_admin:story", args=[story.pk]))
    assert page.status_code in (302, 403, 404) and b"my grand ma" not in page.content


def test_the_transcript_of_one_story_cannot_be_changed_through_another_storys_address(client, editor, told):
    story, transcript, *_ = told
    elsewhere = public_story()
    first = segment_at(transcript, 0)
    answer = change(client, elsewhere, transcript, {"version": 0, "action": "text", "segment": first.pk, "text": "x"})
    assert answer.status_code == 404


def test_a_change_without_the_csrf_token_is_refused(editor, told):
    from django.test import Client

    story, transcript, *_ = told
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    first = segment_at(transcript, 0)
    answer = change(strict, story, transcript, {"version": 0, "action": "text", "segment": first.pk, "text": "Forged"})
    assert answer.status_code == 403
    assert segment_at(transcript, 0).text == "my grand ma kept"


def test_the_transcript_page_holds_the_corrector_player_and_shortcuts(client, editor, told):
    story, transcript, rosa, jay = told
    page = client.get(reverse("transcription_admin:story", args=[story.pk])).content.decode()
    assert f"/recordings/{transcript.media_id}/original" in page
    assert "corrector.js" in page and "Alt</kbd>+<kbd>K</kbd>" in page
    state = json.loads(page.split('id="corrector-state" type="application/json">')[1].split("</script>")[0])
    assert state["transcript"]["version"] == 0 and len(state["transcript"]["segments"]) == 3
    assert {p["name"] for p in state["speakers"]} == {"Rosa M.", "Jay"}
    assert "Rosa Martínez" not in page


def test_the_story_editor_plays_the_original_and_leads_to_the_corrector(client, editor, told):
    story, transcript, *_ = told
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[story.pk])).content.decode()
    assert f"/recordings/{transcript.media_id}/original" in edit
    assert "Listen and correct the transcript" in edit

    written = public_story()
    assert "/original" not in client.get(reverse("wagtailadmin_pages:edit", args=[written.pk])).content.decode()


def test_a_split_inside_a_word_keeps_the_word_whole(told):
    story, transcript, *_ = told
    services.segment_split(transcript=transcript, version=0, segment_id=segment_at(transcript, 1).pk, at=len("a veg"))
    assert [s[3] for s in segments(transcript)][1:3] == ["a", "vegetable garden"]
    services.segment_split(transcript=transcript, version=1, segment_id=segment_at(transcript, 3).pk, at=len("beh"))
    assert [s[3] for s in segments(transcript)][3:] == ["behind", "the house"]


@pytest.mark.django_db(transaction=True)
def test_two_facilitators_saving_at_the_same_moment_one_is_kept_and_the_other_told():
    """Two real connections save against the same version at once: exactly one change lands, the other is refused."""
    import threading

    from django.db import connection

    transcript = finished_transcript(LINES, duration_seconds=9.0)
    public_story(recording=transcript.media)
    first = segment_at(transcript, 0)
    start = threading.Barrier(2)
    outcomes = []

    def save(text):
        try:
            start.wait()
            services.segment_text_set(transcript=transcript, version=0, segment_id=first.pk, text=text)
            outcomes.append(("saved", text))
        except services.TranscriptChanged:
            outcomes.append(("told", text))
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("From Ana", "From Ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(kind for kind, _ in outcomes) == ["saved", "told"]
    kept = next(text for kind, text in outcomes if kind == "saved")
    assert segment_at(transcript, 0).text == kept
    assert Transcript.objects.get(pk=transcript.pk).version == 1
