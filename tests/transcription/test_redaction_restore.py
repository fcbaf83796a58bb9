"""A restore never brings a redacted passage back: restoring a backup older than "redact the original too" writes the
original again with the silence (its checksum taken again, so the fixity check passes), makes its copies again and
says so; a backup taken after the redaction is restored as it is. Each check of silence has its control: the backup's
own original, which still holds the passage."""

import errno
import hashlib
import html
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.rich_text import RichText

from stories.factories import public_story
from stories.models import StoryMedia
from stories.services.backup import backup_create, backup_restore
from stories.services.fixity import original_problem
from transcription import services
from transcription.models import Redaction, RedactionEvent
from transcription.selectors import REDACTED, block_text

from .test_redaction_sound import EDGE, HEARD, SECRET, SILENT, SPAN, decoded, heard, original_bytes, rms

pytestmark = pytest.mark.django_db(transaction=True)  # a restore replaces the database: nothing may wrap it

REASON = "The storyteller asked for it to be destroyed"


def redact_the_original_too(media: StoryMedia, user) -> None:
    services.redaction_create(media=media, start=SPAN[0], end=SPAN[1], reason=REASON, user=user, original_too=True)
    assert Redaction.objects.get(media=media).original_redacted_at is not None, "the worker rewrote the original"


def backups_original(folder: Path, media: StoryMedia) -> bytes:
    return (folder / "private" / media.file.name).read_bytes()


def test_restoring_a_backup_older_than_redacting_the_original_too_silences_the_original_again(
    client, facilitator, told, tmp_path
):
    story, media = told()
    folder = backup_create(destination=tmp_path / "backups")
    redact_the_original_too(media, facilitator)

    report = backup_restore(source=folder)

    # The control: the backup holds the original as it was, the passage heard.
    assert rms(decoded(backups_original(folder, media), tmp_path, "backup.ogg"), SPAN[0] + EDGE, SPAN[1] - EDGE) > HEARD
    [replayed] = report.redactions_replayed
    assert (replayed.media_id, replayed.redactions, replayed.originals, replayed.outcome) == (media.pk, 1, 1, "made")
    restored = original_bytes(media)
    sound = decoded(restored, tmp_path, "restored.ogg")
    assert rms(sound, SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT and rms(sound, 0, SPAN[0] - EDGE) > HEARD
    media.refresh_from_db()
    assert media.sha256 == hashlib.sha256(restored).hexdigest() and original_problem(media) == ""
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert SECRET not in client.get(f"{story.url}transcript.txt").content.decode()
    redaction = Redaction.objects.get(media=media)
    assert redaction.original_too and redaction.original_redacted_at and redaction.reason == REASON
    actions = set(RedactionEvent.objects.filter(media_id=media.pk).values_list("action", flat=True))
    assert {RedactionEvent.Action.REPLAYED, RedactionEvent.Action.ORIGINAL} <= actions


def test_a_backup_taken_after_the_original_was_redacted_comes_back_as_it_is(client, facilitator, told, tmp_path):
    story, media = told()
    redact_the_original_too(media, facilitator)
    media.refresh_from_db()
    silent_original, checksum = original_bytes(media), media.sha256
    folder = backup_create(destination=tmp_path / "backups")

    report = backup_restore(source=folder)

    assert report.redactions_replayed == []
    media.refresh_from_db()
    assert original_bytes(media) == silent_original and media.sha256 == checksum and original_problem(media) == ""
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert Redaction.objects.get(media=media).original_redacted_at is not None


def test_words_restored_after_the_original_was_silenced_are_read_and_the_original_stays_silent(
    client, facilitator, told, tmp_path
):
    story, media = told()
    folder = backup_create(destination=tmp_path / "backups")
    redact_the_original_too(media, facilitator)
    services.redaction_undo(redaction=Redaction.objects.get(media=media), user=facilitator, words_only=True)

    report = backup_restore(source=folder)

    [replayed] = report.redactions_replayed
    assert replayed.originals == 1 and replayed.outcome == "made"
    assert rms(decoded(original_bytes(media), tmp_path, "restored.ogg"), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert not Redaction.objects.filter(media=media).exists()
    assert SECRET in client.get(f"{story.url}transcript.txt").content.decode(), "the words were restored"
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT


def test_a_redaction_made_since_the_backup_is_made_again_with_its_silent_copy(client, facilitator, told, tmp_path):
    story, media = told()
    folder = backup_create(destination=tmp_path / "backups")
    services.redaction_create(media=media, start=SPAN[0], end=SPAN[1], reason="Names a neighbour", user=facilitator)
    original = original_bytes(media)

    report = backup_restore(source=folder)

    [replayed] = report.redactions_replayed
    assert (replayed.redactions, replayed.originals, replayed.outcome) == (1, 0, "made")
    assert SECRET not in client.get(f"{story.url}transcript.txt").content.decode()
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert original_bytes(media) == original, "the original is kept as it was, for facilitators only"


def test_the_restore_command_says_what_it_replayed(facilitator, told, tmp_path, capsys):
    story, media = told()
    call_command("backup", str(tmp_path / "backups"))
    [folder] = (tmp_path / "backups").iterdir()
    redact_the_original_too(media, facilitator)

    call_command("restore", str(folder), "--yes")

    out = capsys.readouterr().out
    assert f"recording {media.pk}, 1 redaction(s), its original written again with silence over 1 passage(s)" in out
    assert "its listening copy made again" in out


def test_when_the_copies_cannot_be_made_after_a_restore_the_public_hears_nothing_and_try_again_finishes_it(
    client, facilitator, told, tmp_path, monkeypatch, settings, capsys
):
    story, media = told()
    backups_copy = media.access_copy.name
    call_command("backup", str(tmp_path / "backups"))
    [folder] = (tmp_path / "backups").iterdir()
    redact_the_original_too(media, facilitator)
    settings.TRANSCRIPTION_MAX_ATTEMPTS = 1
    real = services.access_copy_write

    def disk_full(**kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services, "access_copy_write", disk_full)
    call_command("restore", str(folder), "--yes")

    assert "could not be made yet" in capsys.readouterr().err
    # The control: the backup's listening copy holds the passage; it is not what the public gets.
    backups_sound = decoded((folder / "private" / backups_copy).read_bytes(), tmp_path, "backup.m4a")
    assert rms(backups_sound, SPAN[0] + EDGE, SPAN[1] - EDGE) > HEARD
    answer = client.get(f"/recordings/{media.pk}/access")
    assert answer.status_code == 503 and b"being prepared" in answer.content
    client.force_login(facilitator)
    assert "Try again" in client.get(reverse("transcription_admin:redactions", args=[story.pk])).content.decode()

    monkeypatch.setattr(services, "access_copy_write", real)
    client.post(reverse("transcription_admin:redaction-try-again", args=[story.pk]))
    client.logout()
    media.refresh_from_db()
    restored = original_bytes(media)
    assert rms(decoded(restored, tmp_path, "restored.ogg"), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT
    assert media.sha256 == hashlib.sha256(restored).hexdigest() and original_problem(media) == ""
    assert rms(heard(client, media, tmp_path), SPAN[0] + EDGE, SPAN[1] - EDGE) < SILENT


WRITTEN_WORDS = "the quagmirelly recipe"


def written_story():
    story = public_story(title="Letters from the bakery")
    story.body = [("paragraph", RichText(f"<p>Grandmother kept {WRITTEN_WORDS} in a tin.</p>"))]
    story.save_revision().publish()
    story.refresh_from_db()
    return story


def redact_the_words(story, facilitator):
    block = story.body[0]
    start = block_text(block).index(WRITTEN_WORDS)
    return services.written_redaction_create(
        story=story, block_id=block.id, start=start, end=start + len(WRITTEN_WORDS), reason=REASON, user=facilitator
    )


def written_redacted_after_a_backup(facilitator, tmp_path):
    """A written story, backed up, then a passage of it redacted: the story and the backup's folder."""
    story = written_story()
    folder = backup_create(destination=tmp_path / "backups")
    redact_the_words(story, facilitator)
    return story, folder


def test_restoring_a_backup_older_than_a_written_redaction_redacts_the_passage_again(client, facilitator, tmp_path):
    """A written story's passage redacted after the backup stays hidden after the restore: on its page, in the API
    and in the restore's report, with the backup's own text (which holds the words) as the control."""
    words = WRITTEN_WORDS
    story, folder = written_redacted_after_a_backup(facilitator, tmp_path)
    assert words not in html.unescape(client.get(story.url).content.decode())

    report = backup_restore(source=folder)

    assert report.written_redactions_replayed == [story.pk]
    page = html.unescape(client.get(story.url).content.decode())
    assert "Grandmother kept" in page and words not in page and REDACTED in page
    assert words not in client.get(f"/api/stories/{story.pk}").json()["written"]["text"]
    assert RedactionEvent.objects.filter(story_id=story.pk, action=RedactionEvent.Action.REPLAYED).exists()


def test_control_without_the_replay_the_backups_text_brings_the_written_passage_back(
    client, facilitator, tmp_path, monkeypatch
):
    """The control of the test above: with the written replay taken out, the restored story reads the words again."""
    story, folder = written_redacted_after_a_backup(facilitator, tmp_path)
    monkeypatch.setattr(services, "written_redactions_replay", lambda *, held: [])

    backup_restore(source=folder)

    assert WRITTEN_WORDS in html.unescape(client.get(story.url).content.decode())


def written_redacted_then_backed_up(facilitator, tmp_path):
    """A written story with a passage redacted, then backed up: the story, its redaction and the backup's folder."""
    story = written_story()
    redaction = redact_the_words(story, facilitator)
    return story, redaction, backup_create(destination=tmp_path / "backups")


def test_a_redaction_undone_since_the_backup_stays_in_force_and_the_restore_names_it(
    client, facilitator, tmp_path, capsys
):
    """The backup brings back a redaction undone after it was taken: the restore leaves it in force (the passage
    hidden, never shown by mistake) and says which, so that it can be undone again."""
    story, redaction, folder = written_redacted_then_backed_up(facilitator, tmp_path)
    services.written_redaction_undo(redaction=redaction, user=facilitator)
    assert WRITTEN_WORDS in html.unescape(client.get(story.url).content.decode())

    call_command("restore", str(folder), "--yes")

    out = capsys.readouterr().out
    assert "Redactions undone since the backup are in force again" in out
    assert f"story {story.pk}, characters {redaction.start}–{redaction.end} of its block {redaction.block_id}" in out
    assert WRITTEN_WORDS not in html.unescape(client.get(story.url).content.decode())


def test_control_a_redaction_still_in_force_or_undone_before_the_backup_is_not_named(client, facilitator, tmp_path):
    """The control of the test above: nothing undone since the backup, nothing named; a redaction undone before the
    backup was taken does not come back, and is not named either."""
    story, redaction, folder = written_redacted_then_backed_up(facilitator, tmp_path)

    assert backup_restore(source=folder).undone_in_force_again == []

    services.written_redaction_undo(redaction=redaction, user=facilitator)
    later = backup_create(destination=tmp_path / "later")

    assert backup_restore(source=later).undone_in_force_again == []
    assert WRITTEN_WORDS in html.unescape(client.get(story.url).content.decode())


def test_a_recordings_redaction_undone_since_the_backup_is_named_by_the_restore(facilitator, told, tmp_path):
    story, media = told()
    redaction = services.redaction_create(
        media=media, start=SPAN[0], end=SPAN[1], reason="Names a neighbour", user=facilitator
    )
    folder = backup_create(destination=tmp_path / "backups")
    services.redaction_undo(redaction=redaction, user=facilitator)

    [passage] = backup_restore(source=folder).undone_in_force_again

    assert (passage.media_id, passage.start, passage.end) == (media.pk, SPAN[0], SPAN[1])
    assert Redaction.objects.filter(media=media, start=SPAN[0], end=SPAN[1]).exists()
