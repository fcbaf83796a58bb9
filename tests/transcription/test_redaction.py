"""Redaction: a facilitator hides a passage of a recording, with a reason. Every public path then reads "[redacted]"
there and loses its words (story page, captions, API, search, suggestions and moments), the audit keeps who, when,
which range and why but never the words, and undoing it puts everything back. Each check has its control: the same
word in a segment nobody redacted is found on the same path."""

import html
import logging

import pytest
from django.urls import reverse

from search.services import search_index_rebuild
from stories.factories import public_story
from stories.models import StoryMedia
from transcription import services
from transcription.engine import SpokenSegment, Transcription
from transcription.models import Redaction, RedactionEvent, Segment, Transcript
from transcription.selectors import REDACTED

# The redacted words: SECRET is said in many stories (in one of them inside the passage), UNIQUE only there.
SECRET = "marmalade"
UNIQUE = "quagmirelly"
STORIES = 25  # more than one page of search results (20 a page)
DURATION = 60.0


def recording() -> StoryMedia:
    return StoryMedia.objects.create(
        file="recordings/x.wav", size=10, sha256="0" * 64, container="wav", duration_seconds=DURATION
    )


def transcribe(story, lines, *, model_name="tiny.en") -> Transcript:
    transcript = Transcript.objects.create(
        media=story.recording, model_name=model_name, status=Transcript.Status.DONE, is_current=True, language="en"
    )
    Segment.objects.bulk_create(
        Segment(transcript=transcript, index=i, start=start, end=end, text=text)
        for i, (start, end, text) in enumerate(lines)
    )
    return transcript


LINES = [
    (0.0, 4.0, "Good morning, thank you for coming."),
    (10.0, 14.0, f"Grandmother said the {SECRET} recipe and the {UNIQUE} were hers alone."),
    (20.0, 24.0, "We walked home along the river."),
]


@pytest.fixture
def archive():
    """STORIES public stories, each saying SECRET; the first (the one to redact) also says UNIQUE. Indexed."""
    stories = []
    for number in range(STORIES):
        story = public_story(title=f"Kitchen story {number}", recording=recording())
        lines = LINES if number == 0 else [(0.0, 4.0, "Good morning."), (30.0, 33.0, f"The {SECRET} was sweet.")]
        transcribe(story, lines)
        stories.append(story)
    search_index_rebuild()
    return stories


def redact(client, story, capture, **data):
    """Post the redaction form as a facilitator, and let the on-commit work (re-indexing) run."""
    with capture(execute=True):
        return client.post(reverse("transcription_admin:redactions", args=[story.pk]), data)


def searched_ids(client, word: str) -> list[int]:
    """Every story the search API finds for the word, page after page."""
    found, page = [], 1
    while True:
        answer = client.get("/api/search", {"q": word, "page": page}).json()
        found += [hit["id"] for hit in answer["results"]]
        if len(found) >= answer["count"] or not answer["results"]:
            return found
        page += 1


def moments_of(client, word: str, story_id: int) -> list[str]:
    moments = []
    for page in (1, 2):
        for hit in client.get("/api/search", {"q": word, "page": page}).json()["results"]:
            if hit["id"] == story_id:
                moments += [moment["text"] for moment in hit["moments"]]
    return moments


def search_page_hit(client, word: str, story, page: int) -> str:
    """The part of the search page, at that page of results, that shows the story: empty when it is not found."""
    found = html.unescape(client.get("/search/", {"q": word, "page": page}).content.decode())
    link = f'href="{story.url}"'
    if link not in found:
        return ""
    # From the story's link to the next hit: its title, snippet and moments.
    after = found[found.index(link) :]
    ends = [at for at in (after.find('<li class="search-hit'), after.find("</ol>")) if at > 0]
    return after[: min(ends)] if ends else after


def public_text(client, story) -> dict[str, str]:
    """The words of a story's transcript on each public path that carries them."""
    detail = client.get(f"/api/stories/{story.pk}").json()
    return {
        "story page": html.unescape(client.get(story.url).content.decode()),
        "transcript.vtt": client.get(f"{story.url}transcript.vtt").content.decode(),
        "transcript.srt": client.get(f"{story.url}transcript.srt").content.decode(),
        "transcript.txt": client.get(f"{story.url}transcript.txt").content.decode(),
        "API": " ".join(segment["text"] for segment in detail["transcript"]["segments"]),
        "search page": "".join(search_page_hit(client, SECRET, story, page) for page in (1, 2)),
        "moments": " ".join(moments_of(client, SECRET, story.pk)),
        "suggestions": " ".join(client.get("/api/search/suggest", {"q": UNIQUE[:5]}).json()["suggestions"]),
    }


def test_a_redacted_passage_is_gone_from_every_public_path_and_the_rest_stays(
    client, facilitator, archive, django_capture_on_commit_callbacks
):
    redacted, control = archive[0], archive[1]
    before = public_text(client, redacted)
    # The control: before the redaction every path carries the words, so the checks below can fail.
    for path, text in before.items():
        assert SECRET in text or UNIQUE in text, path
    assert redacted.pk in searched_ids(client, SECRET) and searched_ids(client, UNIQUE) == [redacted.pk]

    client.force_login(facilitator)
    answer = redact(
        client, redacted, django_capture_on_commit_callbacks, start="9.5", end="14.5", reason="Names a neighbour"
    )
    assert answer.status_code == 302
    client.logout()

    after = public_text(client, redacted)
    for path in ("story page", "transcript.vtt", "transcript.srt", "transcript.txt", "API", "moments", "suggestions"):
        assert SECRET not in after[path] and UNIQUE not in after[path], path
    for path in ("story page", "transcript.vtt", "transcript.srt", "transcript.txt", "API"):
        assert REDACTED in after[path] and "We walked home along the river." in after[path], path
    assert after["search page"] == ""
    # Search no longer lands on the story for the redacted words, on any page, while it finds all the others.
    found = searched_ids(client, SECRET)
    assert redacted.pk not in found and len(found) == STORIES - 1 and control.pk in found
    assert searched_ids(client, UNIQUE) == []
    assert searched_ids(client, "river") == [redacted.pk]  # the rest of its transcript is still searched
    # The control: the same word in a segment nobody redacted is still on every path of its story.
    kept = public_text(client, control)
    for path in ("story page", "transcript.vtt", "transcript.srt", "transcript.txt", "API", "moments"):
        assert SECRET in kept[path] and REDACTED not in kept[path], path


def test_choosing_segments_redacts_their_range(client, facilitator, archive, django_capture_on_commit_callbacks):
    story = archive[0]
    segment = Segment.objects.get(transcript__media=story.recording, index=1)
    client.force_login(facilitator)
    redact(
        client, story, django_capture_on_commit_callbacks, segments=[str(segment.pk)], reason="Private family matter"
    )
    [redaction] = Redaction.objects.all()
    assert (redaction.start, redaction.end, redaction.media_id) == (10.0, 14.0, story.recording_id)
    assert UNIQUE not in client.get(f"{story.url}transcript.txt").content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"start": "14", "end": "10", "reason": "x"}, "end", "The end must come after the start."),
        ({"start": "10", "end": "10", "reason": "x"}, "end", "The end must come after the start."),
        ({"start": "10", "end": "75", "reason": "x"}, "end", "The recording ends at 00:01:00.000."),
        ({"start": "61", "end": "65", "reason": "x"}, "start", "The recording is only 00:01:00.000 long."),
        ({"start": "-1", "end": "5", "reason": "x"}, "start", "Ensure this value is greater than or equal to 0."),
        ({"start": "10", "end": "14", "reason": " "}, "reason", "Give a reason: the audit keeps it."),
        ({"start": "10", "reason": "x"}, "end", "Give the end as well as the start."),
        ({"start": "ten", "end": "14", "reason": "x"}, "start", "Enter a number."),
    ],
)
def test_a_bad_redaction_is_refused_with_a_clear_message_and_keeps_what_was_typed(
    client, facilitator, archive, django_capture_on_commit_callbacks, data, field, message
):
    story = archive[0]
    client.force_login(facilitator)
    answer = redact(client, story, django_capture_on_commit_callbacks, **data)
    assert answer.status_code == 200
    assert message in answer.context["form"].errors[field]
    assert html.escape(message, quote=False) in answer.content.decode()
    assert not Redaction.objects.exists() and not RedactionEvent.objects.exists()
    if data.get("reason", "").strip():
        assert data["reason"] in answer.content.decode()  # nothing typed is lost


def test_neither_segments_nor_times_is_refused(client, facilitator, archive, django_capture_on_commit_callbacks):
    client.force_login(facilitator)
    answer = redact(client, archive[0], django_capture_on_commit_callbacks, reason="A reason")
    assert "Choose the segments to redact, or give a start and end time." in answer.content.decode()
    assert not Redaction.objects.exists()


def test_the_audit_keeps_who_when_which_range_and_why_but_never_the_words(
    client, facilitator, archive, django_capture_on_commit_callbacks, caplog
):
    story = archive[0]
    client.force_login(facilitator)
    with caplog.at_level(logging.DEBUG):
        redact(client, story, django_capture_on_commit_callbacks, start="9.5", end="14.5", reason="Names a neighbour")
        redaction = Redaction.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("transcription_admin:redaction-undo", args=[story.pk, redaction.pk]))

    events = list(RedactionEvent.objects.order_by("pk").values())
    assert [(e["action"], e["start"], e["end"], e["reason"], e["username"]) for e in events] == [
        ("redacted", 9.5, 14.5, "Names a neighbour", "facilitator"),
        ("restored", 9.5, 14.5, "Names a neighbour", "facilitator"),
    ]
    assert all(e["media_id"] == story.recording_id and e["user_id"] == facilitator.pk and e["at"] for e in events)
    # Never the words: not in any column of any audit row, nor in any log line written meanwhile.
    for event in events:
        for value in event.values():
            assert SECRET not in str(value) and UNIQUE not in str(value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "redacted by user" in logged and "restored by user" in logged  # the control: the log lines were caught
    assert SECRET not in logged and UNIQUE not in logged
    audit_page = client.get(reverse("transcription_admin:redactions", args=[story.pk])).content.decode()
    assert "Names a neighbour" in audit_page and "Redaction undone" in audit_page


def test_undoing_puts_every_word_back(client, facilitator, archive, django_capture_on_commit_callbacks):
    story = archive[0]
    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start="9.5", end="14.5", reason="Names a neighbour")
    assert searched_ids(client, UNIQUE) == []
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("transcription_admin:redaction-undo", args=[story.pk, Redaction.objects.get().pk]))
    assert answer.status_code == 302 and not Redaction.objects.exists()
    client.logout()
    for path, text in public_text(client, story).items():
        assert REDACTED not in text and (SECRET in text or UNIQUE in text), path
    assert searched_ids(client, UNIQUE) == [story.pk] and story.pk in searched_ids(client, SECRET)


def test_the_redaction_survives_transcribing_again_and_rebuilding_the_index(
    client, facilitator, archive, django_capture_on_commit_callbacks
):
    story = archive[0]
    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start="9.5", end="14.5", reason="Names a neighbour")
    # "Transcribe again": another model's transcript of the same recording is finished by the worker's service.
    again = Transcript.objects.create(media=story.recording, model_name="base", supersede_corrections=True)
    spoken = [
        SpokenSegment(start=1.0, end=5.0, text="Good morning to you all."),
        SpokenSegment(start=11.0, end=13.0, text=f"The {UNIQUE} and the {SECRET} were hers."),
        SpokenSegment(start=21.0, end=23.0, text="We walked home by the river."),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.transcript_save(
            transcript_id=again.pk,
            result=Transcription(language="en", language_probability=1.0, duration=DURATION, segments=spoken),
            elapsed=1.0,
        )
    again.refresh_from_db()
    assert again.is_current
    search_index_rebuild()
    client.logout()

    after = public_text(client, story)
    for path, text in after.items():
        assert SECRET not in text and UNIQUE not in text, path
    assert after["search page"] == ""
    assert "We walked home by the river." in after["API"]  # the control: the new transcript is what people read
    assert story.pk not in searched_ids(client, SECRET) and searched_ids(client, UNIQUE) == []


def test_the_corrector_still_shows_the_words_marked_redacted(
    client, facilitator, archive, django_capture_on_commit_callbacks
):
    story = archive[0]
    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start="9.5", end="14.5", reason="Names a neighbour")
    page = client.get(reverse("transcription_admin:story", args=[story.pk]))
    state = page.context["corrector"]["transcript"]
    redacted_segment = Segment.objects.get(transcript__media=story.recording, index=1)
    assert state["redacted"] == [redacted_segment.pk]
    assert UNIQUE in html.unescape(page.content.decode())


def test_only_facilitators_who_may_edit_the_story_redact_or_undo(client, django_user_model, archive):
    story = archive[0]
    redaction = Redaction.objects.create(media=story.recording, start=9.5, end=14.5, reason="Names a neighbour")
    outsider = django_user_model.objects.create_user("outsider", "outsider@example.org", "a-long-passphrase")
    client.force_login(outsider)
    client.post(reverse("transcription_admin:redactions", args=[story.pk]), {"start": 0, "end": 1, "reason": "x"})
    client.post(reverse("transcription_admin:redaction-undo", args=[story.pk, redaction.pk]))
    assert list(Redaction.objects.values_list("pk", flat=True)) == [redaction.pk]
    assert not RedactionEvent.objects.exists()


def test_a_story_page_cached_before_the_redaction_is_not_served_after_it(
    client, facilitator, archive, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 300
    story = archive[0]
    first = client.get(story.url)
    again = client.get(story.url)
    assert again.headers.get("X-Page-Cache") == "hit" and UNIQUE in again.content.decode()  # the control: cached
    client.force_login(facilitator)
    redact(client, story, django_capture_on_commit_callbacks, start="9.5", end="14.5", reason="Names a neighbour")
    client.logout()
    after = client.get(story.url).content.decode()
    assert UNIQUE not in after and SECRET not in after and REDACTED in html.unescape(after)
    assert first.status_code == 200
