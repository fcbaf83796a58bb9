"""Redacting a passage of a written story: the story page, the API, search and suggestions read "[redacted]" there
and lose its words, the rest of the text stays, the audit never keeps the words, and undoing puts them back. Each
check has its control: the same word in a passage nobody redacted is found on the same path."""

import html
import logging

import pytest
from django.db import DatabaseError
from django.urls import reverse
from wagtail.rich_text import RichText

from search.services import search_index_rebuild
from stories.factories import public_story
from transcription import services
from transcription.models import RedactionEvent, WrittenRedaction
from transcription.selectors import REDACTED

SECRET = "marmalade"  # in every story; in the first, inside the passage redacted
UNIQUE = "quagmirelly"  # only in the passage redacted
STORIES = 25  # more than one page of search results (20 a page)
PARAGRAPH = f"<p>Grandmother kept the <b>{SECRET}</b> recipe and the {UNIQUE} secret.</p><p>We walked by the river.</p>"


@pytest.fixture
def archive():
    stories = []
    for number in range(STORIES):
        story = public_story(title=f"Letters {number}")
        if number == 0:
            story.body = [
                ("paragraph", RichText(PARAGRAPH)),
                ("quote", {"text": f"Keep the {SECRET} for Sundays.", "attribution": "My aunt"}),
            ]
        else:
            story.body = [("paragraph", RichText(f"<p>The {SECRET} was sweet.</p>"))]
        story.save_revision().publish()
        stories.append(story)
    search_index_rebuild()
    return stories


def block_ids(story) -> list[str]:
    story.refresh_from_db()
    return [block.id for block in story.body]


def redact(client, story, capture, **data):
    with capture(execute=True):
        return client.post(reverse("transcription_admin:written-redactions", args=[story.pk]), data)


def searched_ids(client, word: str) -> list[int]:
    found, page = [], 1
    while True:
        answer = client.get("/api/search", {"q": word, "page": page}).json()
        found += [hit["id"] for hit in answer["results"]]
        if len(found) >= answer["count"] or not answer["results"]:
            return found
        page += 1


def public_text(client, story) -> dict[str, str]:
    return {
        "story page": html.unescape(client.get(story.url).content.decode()),
        "API": client.get(f"/api/stories/{story.pk}").json()["written"]["text"],
        "suggestions": " ".join(client.get("/api/search/suggest", {"q": UNIQUE[:5]}).json()["suggestions"]),
    }


def test_a_redacted_passage_of_a_written_story_is_gone_from_every_public_path(
    client, facilitator, archive, django_capture_on_commit_callbacks, caplog
):
    story, control = archive[0], archive[1]
    for path, text in public_text(client, story).items():
        assert UNIQUE in text, path  # the control: before, every path carries the words
    assert searched_ids(client, UNIQUE) == [story.pk] and story.pk in searched_ids(client, SECRET)

    client.force_login(facilitator)
    paragraph, quote = block_ids(story)
    with caplog.at_level(logging.DEBUG):
        answer = redact(
            client,
            story,
            django_capture_on_commit_callbacks,
            block=paragraph,
            passage=f"the {SECRET} recipe and the {UNIQUE} secret",
            reason="Family recipe",
        )
        assert answer.status_code == 302
        redact(client, story, django_capture_on_commit_callbacks, block=quote, start="9", end="18", reason="Again")
    client.logout()

    after = public_text(client, story)
    for path, text in after.items():
        assert SECRET not in text and UNIQUE not in text, path
    for path in ("story page", "API"):
        assert f"Grandmother kept {REDACTED}." in after[path] and "We walked by the river." in after[path], path
        assert f"Keep the {REDACTED} for Sundays." in after[path], path
    found = searched_ids(client, SECRET)
    assert story.pk not in found and control.pk in found and len(found) == STORIES - 1
    assert searched_ids(client, UNIQUE) == [] and searched_ids(client, "river") == [story.pk]
    # The control: the same word nobody redacted is still on the other story's paths.
    assert SECRET in public_text(client, control)["story page"] and SECRET in public_text(client, control)["API"]

    # The audit: who, when, which range and why, never the words; nor any log line.
    events = list(RedactionEvent.objects.values())
    assert sorted((e["block_id"], e["start"], e["end"], e["reason"]) for e in events) == sorted(
        [(paragraph, 17.0, 64.0, "Family recipe"), (quote, 9.0, 18.0, "Again")]
    )
    assert all(e["story_id"] == story.pk and e["username"] == "facilitator" and e["at"] for e in events)
    for event in events:
        assert all(SECRET not in str(value) and UNIQUE not in str(value) for value in event.values())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "redacted by user" in logged and SECRET not in logged and UNIQUE not in logged


def test_undoing_puts_the_words_back_and_the_text_was_never_changed(
    client, facilitator, archive, django_capture_on_commit_callbacks
):
    story = archive[0]
    client.force_login(facilitator)
    paragraph, _ = block_ids(story)
    redact(client, story, django_capture_on_commit_callbacks, block=paragraph, passage=UNIQUE, reason="A name")
    story.refresh_from_db()
    assert UNIQUE in story.body[0].value.source  # the story's own text keeps the words
    admin_page = html.unescape(
        client.get(reverse("transcription_admin:written-redactions", args=[story.pk])).content.decode()
    )
    assert UNIQUE in admin_page and REDACTED in admin_page  # facilitators see both
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("transcription_admin:written-redaction-undo", args=[story.pk, WrittenRedaction.objects.get().pk])
        )
    client.logout()
    for path, text in public_text(client, story).items():
        assert UNIQUE in text and REDACTED not in text, path
    assert searched_ids(client, UNIQUE) == [story.pk]
    assert [e.action for e in RedactionEvent.objects.order_by("pk")] == ["redacted", "restored"]


def test_an_undo_that_fails_half_way_leaves_the_passage_redacted_and_the_audit_as_it_was(
    facilitator, archive, monkeypatch
):
    """The audit's "restored" and the redaction's removal are one change: when removing it fails, neither is kept."""
    story = archive[0]
    paragraph, _ = block_ids(story)
    redaction = services.written_redaction_create(
        story=story, block_id=paragraph, start=0, end=len("Grandmother"), reason="A name", user=facilitator
    )

    def fails(self, *args, **kwargs):
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(WrittenRedaction, "delete", fails)
    with pytest.raises(DatabaseError):
        services.written_redaction_undo(redaction=redaction, user=facilitator)

    assert WrittenRedaction.objects.filter(pk=redaction.pk).exists()
    assert [e.action for e in RedactionEvent.objects.order_by("pk")] == ["redacted"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"passage": "not in the text", "reason": "x"}, "passage", "These words are not in the chosen paragraph"),
        ({"start": "10", "end": "5", "reason": "x"}, "end", "The end must come after the start."),
        ({"start": "10", "end": "500", "reason": "x"}, "end", "The paragraph has only"),
        ({"passage": UNIQUE, "reason": ""}, "reason", "Give a reason: the audit keeps it."),
    ],
)
def test_a_bad_written_redaction_is_refused_with_a_clear_message(
    client, facilitator, archive, django_capture_on_commit_callbacks, data, field, message
):
    story = archive[0]
    client.force_login(facilitator)
    paragraph, _ = block_ids(story)
    answer = redact(client, story, django_capture_on_commit_callbacks, block=paragraph, **data)
    assert answer.status_code == 200
    assert any(message in error for error in answer.context["form"].errors[field])
    assert not WrittenRedaction.objects.exists() and not RedactionEvent.objects.exists()


def test_only_those_who_may_edit_the_story_redact_its_text(client, django_user_model, archive):
    story = archive[0]
    paragraph, _ = block_ids(story)
    outsider = django_user_model.objects.create_user("outsider", "outsider@example.org", "a-long-passphrase")
    client.force_login(outsider)
    url = reverse("transcription_admin:written-redactions", args=[story.pk])
    client.post(url, {"block": paragraph, "passage": UNIQUE, "reason": "x"})
    assert not WrittenRedaction.objects.exists()


def test_a_paragraph_edited_after_its_redaction_is_withheld_whole(
    client, facilitator, archive, django_capture_on_commit_callbacks
):
    """Characters counted before an edit may have moved: the public reads none of the paragraph, not the wrong part."""
    story = archive[0]
    client.force_login(facilitator)
    paragraph, _ = block_ids(story)
    redact(client, story, django_capture_on_commit_callbacks, block=paragraph, passage=UNIQUE, reason="A name")
    client.logout()
    assert "We walked by the river." in public_text(client, story)["API"]  # the control: only the passage, before
    story.refresh_from_db()
    story.body[0].value = RichText(f"<p>Oh, {PARAGRAPH[3:]}")  # three characters more in front of the passage
    with django_capture_on_commit_callbacks(execute=True):
        story.save_revision().publish()
    after = public_text(client, story)
    for path in ("story page", "API"):
        assert UNIQUE not in after[path] and "river" not in after[path] and REDACTED in after[path], path
