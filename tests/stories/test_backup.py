"""Backups that come back: a populated archive is backed up, wiped, restored and compared, on SQLite and PostgreSQL;
a damaged backup is refused; a story withdrawn after the backup stays withdrawn."""

import shutil
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from stories.factories import PersonFactory, public_story
from stories.models import Consent, StoryMedia, StoryPage, Withdrawal, private_storage
from stories.services.backup import BackupRefused, backup_create, backup_restore
from stories.services.withdrawal import story_withdraw
from tests.transcription.recordings import AUDIO, recordings_not_transcribed, store
from transcription.models import Segment, Transcript

pytestmark = pytest.mark.django_db(transaction=True)  # a restore replaces the database: nothing may wrap it


@pytest.fixture
def archive(tmp_path):
    """Three stories with real recordings and transcripts, one told by a minor with a guardian's consent."""
    stories = []
    for n, name in enumerate(("jfk", "garden", "school")):
        copy = tmp_path / f"{name}.ogg"
        copy.write_bytes((AUDIO / f"{name}.ogg").read_bytes())
        with recordings_not_transcribed():
            media = store(copy)
        people = [PersonFactory(display_name=f"Teller {n}", birth_year=2012 if n == 1 else 1950)]
        stories.append(public_story(title=f"Story of the {name}", recording=media, people=people))
        transcript = Transcript.objects.create(
            media=media, model_name="tiny.en", status=Transcript.Status.DONE, is_current=True, language="en"
        )
        Segment.objects.create(transcript=transcript, index=0, start=0.0, end=2.0, text=f"The {name} line.")
    return stories


def archive_state() -> dict:
    """What a restore must bring back: stories, consents, transcripts and each recording's bytes."""
    return {
        "stories": sorted(StoryPage.objects.values_list("pk", "title", "live", "withdrawn_at")),
        "public": sorted(StoryPage.objects.visible_to_public().values_list("pk", flat=True)),
        "consents": sorted(Consent.objects.values_list("story_id", "person__display_name", "scope", "guardian_name")),
        "segments": sorted(Segment.objects.values_list("transcript__media_id", "text")),
        "recordings": {
            media.pk: (media.sha256, Path(media.file.path).read_bytes() if Path(media.file.path).exists() else None)
            for media in StoryMedia.objects.all()
        },
    }


def wipe() -> None:
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(private_storage().location, ignore_errors=True)


def test_a_wiped_archive_comes_back_whole_from_its_backup(archive, tmp_path, client):
    before = archive_state()
    assert len(before["public"]) == 3 and all(data for _, data in before["recordings"].values())
    folder = backup_create(destination=tmp_path / "backups")

    wipe()
    assert archive_state() != before, "control: the wipe took everything"

    report = backup_restore(source=folder)

    assert archive_state() == before
    assert report.withdrawals_replayed == []
    for media in StoryMedia.objects.all():
        assert StoryMedia.objects.get(pk=media.pk).sha256 == media.sha256
    page = client.get(StoryPage.objects.get(title="Story of the garden").url)
    assert page.status_code == 200 and "The garden line." in page.content.decode()


def test_a_story_withdrawn_after_the_backup_stays_withdrawn_when_it_is_restored(archive, tmp_path):
    from wagtail.images import get_image_model
    from wagtail_factories import ImageFactory

    taken_back, kept = archive[0], archive[2]
    for story in (taken_back, kept):
        story.cover_image = ImageFactory(title=f"The cover of {story.title}")
        story.save_revision().publish()
    covers = {story.pk: Path(story.cover_image.file.path) for story in (taken_back, kept)}
    folder = backup_create(destination=tmp_path / "backups")
    story_withdraw(story=taken_back, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    backed_up = {path.name for path in (folder / "media").rglob("*")}
    assert not covers[taken_back.pk].exists() and covers[taken_back.pk].name in backed_up, (
        "control: the withdrawal deleted its cover, which the backup holds"
    )

    report = backup_restore(source=folder)

    assert report.withdrawals_replayed == [taken_back.pk]
    public = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    assert taken_back.pk not in public and kept.pk in public, "control: the others came back"
    assert StoryPage.objects.get(pk=taken_back.pk).withdrawn_at is not None
    assert not StoryMedia.objects.filter(pk=taken_back.recording_id).exists()
    assert Withdrawal.objects.filter(story_id_removed=taken_back.pk).count() == 1
    # Its cover, a public file, came back with the backup's media and went again with the replayed withdrawal.
    assert list(get_image_model().objects.values_list("title", flat=True)) == [f"The cover of {kept.title}"]
    assert not covers[taken_back.pk].exists() and covers[kept.pk].is_file()


def test_a_damaged_backup_is_refused_before_anything_changes(archive, tmp_path):
    folder = backup_create(destination=tmp_path / "backups")
    # The largest original in the backup: a byte in its middle, whichever order the folder lists its files in.
    recording = max((folder / "private").rglob("original*"), key=lambda path: path.stat().st_size)
    data = bytearray(recording.read_bytes())
    data[len(data) // 2] ^= 0xFF
    recording.write_bytes(bytes(data))
    public_story(title="Told after the backup")

    with pytest.raises(BackupRefused, match=r"private/.*original.* is damaged"):
        backup_restore(source=folder)

    assert StoryPage.objects.filter(title="Told after the backup").exists(), "the archive was left as it was"


def test_the_commands_back_up_and_restore_and_say_what_to_do_next(archive, tmp_path, capsys):
    call_command("backup", str(tmp_path / "backups"))
    [folder] = (tmp_path / "backups").iterdir()
    StoryPage.objects.filter(pk=archive[0].pk).update(title="Renamed since")

    call_command("restore", str(folder), "--yes")

    assert StoryPage.objects.get(pk=archive[0].pk).title == "Story of the jfk"
    assert "search_index rebuild" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a Story Archive backup"):
        call_command("restore", str(tmp_path), "--yes")


def test_withdrawals_are_replayed_only_onto_the_same_stories(archive, tmp_path):
    """A withdrawal names a story by id and by the page's own identity: after restoring a backup in which that id is
    another page, nothing is withdrawn."""
    folder = backup_create(destination=tmp_path / "backups")
    taken_back = archive[0]
    story_withdraw(story=taken_back, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    StoryPage.objects.filter(pk=taken_back.pk).update(translation_key=uuid.uuid4())  # as if another archive's page

    report = backup_restore(source=folder)

    assert report.withdrawals_replayed == []
    assert taken_back.pk in set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
