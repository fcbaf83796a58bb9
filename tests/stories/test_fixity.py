"""Fixity: a preservation original that changed by one byte, or went missing, is caught and reported."""

import io
import logging
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from stories.models import StoryMedia
from stories.services.fixity import fixity_check
from stories.tasks import check_fixity
from tests.transcription.recordings import AUDIO, store


@pytest.fixture
def recordings(tmp_path, django_user_model):
    django_user_model.objects.create_superuser("keeper", "keeper@example.org", "a-long-passphrase")
    kept = []
    for name in ("jfk", "garden", "school"):
        copy = tmp_path / f"{name}.ogg"
        copy.write_bytes((AUDIO / f"{name}.ogg").read_bytes())
        kept.append(store(copy))
    return kept


def flip_one_byte(media: StoryMedia) -> None:
    path = Path(media.file.path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_untouched_originals_pass_and_are_marked_checked(recordings):
    report = fixity_check()

    assert report.checked == 3 and report.failed == []
    assert report.bytes_read == sum(media.size for media in recordings)
    assert all(m.fixity_checked_at and not m.fixity_error for m in StoryMedia.objects.all())
    assert mail.outbox == []


def test_one_flipped_byte_is_caught_recorded_logged_and_mailed_to_the_administrators(recordings, caplog):
    damaged = recordings[1]
    flip_one_byte(damaged)

    with caplog.at_level(logging.ERROR, logger="stories.services.fixity"):
        report = fixity_check()

    assert [media.pk for media in report.failed] == [damaged.pk]
    damaged.refresh_from_db()
    assert "changed since it was uploaded" in damaged.fixity_error and damaged.sha256 in damaged.fixity_error
    assert str(damaged.pk) in caplog.text
    assert StoryMedia.objects.exclude(pk=damaged.pk).filter(fixity_error="").count() == 2, "the others still pass"
    [message] = mail.outbox
    assert message.to == ["keeper@example.org"]
    assert str(damaged.pk) in message.body and "garden.ogg" in message.body


def test_a_missing_original_is_reported_and_the_command_fails_naming_it(recordings):
    missing = recordings[0]
    Path(missing.file.path).unlink()
    err = io.StringIO()

    with pytest.raises(CommandError, match="3 originals checked .* 1 failed"):
        call_command("fixity_check", verbosity=0, stderr=err)

    assert f"recording {missing.pk}" in err.getvalue() and "is missing" in err.getvalue()
    missing.refresh_from_db()
    assert "is missing" in missing.fixity_error


def test_a_repaired_original_passes_again(recordings):
    damaged = recordings[2]
    original = Path(damaged.file.path).read_bytes()
    flip_one_byte(damaged)
    assert len(fixity_check().failed) == 1, "control: the damage is seen"

    Path(damaged.file.path).write_bytes(original)

    assert fixity_check().failed == []
    damaged.refresh_from_db()
    assert damaged.fixity_error == ""


def test_the_daily_task_reads_the_originals_checked_longest_ago_within_its_budget(recordings, monkeypatch):
    monkeypatch.setattr("stories.tasks.FIXITY_BYTES_PER_DAY", recordings[0].size + 1)
    first = check_fixity.call()
    second = check_fixity.call()

    assert first["checked"] == 1 and second["checked"] == 1
    checked_at = dict(StoryMedia.objects.values_list("pk", "fixity_checked_at"))
    assert sum(1 for when in checked_at.values() if when) == 2, "each day takes the next originals in turn"
    assert checked_at[recordings[0].pk] is not None


def test_the_command_refuses_a_budget_that_reads_nothing(recordings):
    with pytest.raises(CommandError, match="--max-gb must be more than 0"):
        call_command("fixity_check", "--max-gb", "0")
