"""import_stories: a facilitator's manifest becomes stories; bad rows are named by line and change nothing."""

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from stories.models import Community, Consent, Person, StoryMedia, StoryPage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stories"
HEADER = "title,summary,community,dialogue,themes,language,recorded_on,file,text,storytellers,consent,visibility\n"


@pytest.fixture
def event_folder(tmp_path):
    shutil.copy(FIXTURES / "garden.ogg", tmp_path / "garden.ogg")
    return tmp_path


def write_manifest(folder: Path, *rows: str) -> Path:
    manifest = folder / "manifest.csv"
    manifest.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return manifest


GOOD_AUDIO = (
    "The garden,Neighbours plant together,Riverside Commons,Spring Dialogue,thriving-natural-world;humane-housing,"
    "en,2026-04-12,garden.ogg,,Rosa M.|1948|storyteller;Jay T.|2011|interviewer,yes,public"
)
GOOD_TEXT = (
    'The bus,A long ride to school,Hillside,,Reliable transportation,en,2026-04-13,,"We waited for the bus.\n\n'
    'It came at last.",Ana P.|2008|storyteller,adults,public'
)


def private_files():
    from django.conf import settings

    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_good_manifest_creates_published_stories_with_consent(event_folder, capsys):
    call_command("import_stories", str(write_manifest(event_folder, GOOD_AUDIO, GOOD_TEXT)), "--publish")

    garden = StoryPage.objects.get(title="The garden")
    assert garden.live and garden.kind == "audio"
    assert garden.community.name == "Riverside Commons" and garden.dialogue.title == "Spring Dialogue"
    assert {t.slug for t in garden.themes.all()} == {"thriving-natural-world", "humane-housing"}
    assert [p.person.display_name for p in garden.participants.all()] == ["Rosa M.", "Jay T."]
    assert garden.recording.duration_seconds == pytest.approx(5.5, abs=0.2)
    # consent "yes": everyone, with a guardian for the youth born 2011
    youth_consent = Consent.objects.get(story=garden, person__display_name="Jay T.")
    assert youth_consent.guardian_name and youth_consent.guardian_consented_on
    assert garden.is_visible_to_public()

    bus = StoryPage.objects.get(title="The bus")
    assert bus.kind == "text"
    assert [block.block_type for block in bus.body] == ["paragraph", "paragraph"]
    # consent "adults" records none for a storyteller who may have been 17, so the story stays hidden
    assert not Consent.objects.filter(story=bus).exists()
    assert not bus.is_visible_to_public()

    assert "2 created, 0 updated, 0 failed" in capsys.readouterr().out


def test_import_without_publish_leaves_drafts(event_folder):
    call_command("import_stories", str(write_manifest(event_folder, GOOD_AUDIO)))
    story = StoryPage.objects.get(title="The garden")
    assert not story.live
    assert not StoryPage.objects.visible_to_public().exists()


def test_running_twice_updates_instead_of_duplicating(event_folder, capsys):
    manifest = write_manifest(event_folder, GOOD_AUDIO, GOOD_TEXT)
    call_command("import_stories", str(manifest), "--publish")
    call_command("import_stories", str(manifest), "--publish")

    assert StoryPage.objects.filter(title="The garden").count() == 1
    assert Community.objects.filter(name="Riverside Commons").count() == 1
    assert Person.objects.filter(display_name="Rosa M.").count() == 1
    assert StoryMedia.objects.count() == 1, "the same recording is not stored twice"
    assert "0 created, 2 updated, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad_row, message",
    [
        (GOOD_AUDIO.replace("garden.ogg", "missing.ogg"), "the file “missing.ogg” does not exist"),
        (GOOD_AUDIO.replace("humane-housing", "happiness"), "the theme “happiness” is unknown"),
        (GOOD_AUDIO.replace("2026-04-12", "12/04/2026"), "the date “12/04/2026” is not a date"),
        (GOOD_AUDIO.replace(",en,", ",zz,"), "“zz” is not a language code"),
        (GOOD_AUDIO.replace("1948", "2999"), "cannot be in the future"),
        (GOOD_AUDIO.replace("1948", "1850"), "more than 120 years back"),
        (GOOD_AUDIO.replace("garden.ogg", "../../etc/passwd"), "outside the manifest's folder"),
        (GOOD_AUDIO.replace(",yes,", ",maybe,"), "consent must be yes, adults or no"),
        (GOOD_AUDIO.replace("|storyteller;", "|singer;"), "should be storyteller, interviewer or listener"),
    ],
)
def test_bad_row_is_reported_by_line_and_others_still_import(event_folder, capsys, bad_row, message):
    manifest = write_manifest(event_folder, GOOD_TEXT, bad_row.replace("The garden", "Broken story"))

    with pytest.raises(CommandError, match="1 created, 0 updated, 1 failed"):
        call_command("import_stories", str(manifest), "--publish")

    errors = capsys.readouterr().err.splitlines()
    # The header is line 1 and the written story spans lines 2-4, so the bad row is line 5.
    assert any(line.startswith("line 5: ") and message in line for line in errors), errors
    assert StoryPage.objects.filter(title="The bus").exists()
    assert not StoryPage.objects.filter(title="Broken story").exists()


def test_file_that_is_not_a_recording_is_refused_and_leaves_nothing(event_folder, capsys):
    files_before = private_files()
    (event_folder / "page.mp3").write_text("<html><body>not audio</body></html>")
    manifest = write_manifest(event_folder, GOOD_AUDIO.replace("garden.ogg", "page.mp3"))

    with pytest.raises(CommandError):
        call_command("import_stories", str(manifest))

    assert "was refused: This file is not an audio or video recording" in capsys.readouterr().err
    assert not StoryPage.objects.exists() and not StoryMedia.objects.exists()
    assert private_files() == files_before


def test_manifest_that_is_not_utf8_gets_a_clear_message(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(HEADER.encode() + "Café,,Riverside,,,en,,,x,,no,public\n".encode("latin-1"))
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        call_command("import_stories", str(manifest))


def test_manifest_without_title_column_is_refused(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("name,community\nA story,Riverside\n")
    with pytest.raises(CommandError, match="has no title column"):
        call_command("import_stories", str(manifest))


# Withdrawn stories stay withdrawn --------------------------------------------------------------------------------------


def withdraw(title: str):
    """Withdraw as a facilitator would, running what waits for the commit (the files' deletion)."""
    from django.test import TestCase

    from stories.models import Withdrawal
    from stories.services import story_withdraw

    with TestCase.captureOnCommitCallbacks(execute=True):
        return story_withdraw(story=StoryPage.objects.get(title=title), requested_by=Withdrawal.RequestedBy.FACILITATOR)


def test_reimporting_never_brings_back_a_withdrawn_story(event_folder, capsys):
    manifest = write_manifest(event_folder, GOOD_AUDIO, GOOD_TEXT.replace(",adults,", ",yes,"))
    call_command("import_stories", str(manifest), "--publish")
    garden = StoryPage.objects.get(title="The garden")
    assert garden.is_visible_to_public(), "control: the import made the story public"
    withdraw("The garden")
    capsys.readouterr()
    files = private_files()

    with pytest.raises(CommandError, match="0 created, 1 updated, 0 failed, 1 refused because they were withdrawn"):
        call_command("import_stories", str(manifest), "--publish")

    errors = capsys.readouterr().err.splitlines()
    assert any(line.startswith("line 2: refused: “The garden” was withdrawn on ") for line in errors), errors
    garden.refresh_from_db()
    assert garden.withdrawn_at is not None and not garden.is_visible_to_public()
    assert not StoryPage.objects.filter(title="The garden").exists()
    assert [story.title for story in StoryPage.objects.visible_to_public()] == ["The bus"]
    assert not Person.objects.filter(display_name__in=["Rosa M.", "Jay T."]).exists()
    assert StoryMedia.objects.count() == 0 and private_files() == files, "no recording was stored again"


def test_the_recording_of_a_withdrawn_story_is_refused_under_another_title(event_folder, capsys):
    call_command("import_stories", str(write_manifest(event_folder, GOOD_AUDIO)), "--publish")
    withdraw("The garden")
    capsys.readouterr()
    files = private_files()
    renamed = write_manifest(event_folder, GOOD_AUDIO.replace("The garden", "Our garden again"))

    with pytest.raises(CommandError, match="0 created, 0 updated, 0 failed, 1 refused"):
        call_command("import_stories", str(renamed), "--publish")

    assert "line 2: refused: the file “garden.ogg” is the recording of a story withdrawn on" in capsys.readouterr().err
    assert not StoryPage.objects.filter(title="Our garden again").exists()
    assert StoryMedia.objects.count() == 0 and private_files() == files, "no recording was stored again"


def test_an_import_never_gives_back_a_withdrawn_consent(event_folder, capsys):
    from django.utils import timezone

    manifest = write_manifest(event_folder, GOOD_AUDIO)
    call_command("import_stories", str(manifest), "--publish")
    consent = Consent.objects.get(person__display_name="Rosa M.")
    consent.withdrawn_at = timezone.now()
    consent.save()
    garden = StoryPage.objects.get(title="The garden")
    assert not garden.is_visible_to_public()
    capsys.readouterr()

    with pytest.raises(CommandError, match="0 created, 0 updated, 0 failed, 1 refused"):
        call_command("import_stories", str(manifest), "--publish")

    assert "line 2: refused: Rosa M. withdrew their consent to “The garden” on" in capsys.readouterr().err
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert not StoryPage.objects.visible_to_public().exists()


def test_a_manifest_cannot_bring_back_a_shared_story_that_was_withdrawn(client, event_folder, capsys):
    from stories.factories import CommunityFactory

    from .test_intake_support import make_invite, share_data, share_url

    invite = make_invite(community=CommunityFactory(name="Riverside"))
    assert client.post(share_url(invite), share_data()).status_code == 302
    withdraw("The garden on Elm Street")
    row = 'The garden on  Elm street,,RIVERSIDE,,,en,,,"My grandmother planted the garden.",Grandma Rose|1948|,yes,'
    with pytest.raises(CommandError, match="1 refused"):
        call_command("import_stories", str(write_manifest(event_folder, row)), "--publish")
    assert "“The garden on  Elm street” was withdrawn on" in capsys.readouterr().err
    assert not StoryPage.objects.visible_to_public().exists()


def test_a_withdrawal_keeps_its_story_only_as_keyed_hashes(event_folder, settings):
    from stories.models import WithdrawnStoryFingerprint, withdrawn_story_fingerprints

    call_command("import_stories", str(write_manifest(event_folder, GOOD_AUDIO)), "--publish")
    sha256 = StoryPage.objects.get(title="The garden").recording.sha256
    withdraw("The garden")
    kept = set(WithdrawnStoryFingerprint.objects.values_list("value", flat=True))
    assert kept == withdrawn_story_fingerprints(
        community="Riverside Commons", titles=["The garden"], recording_sha256=sha256
    )
    assert all(len(value) == 64 and "garden" not in value and sha256 not in value for value in kept)
    settings.SECRET_KEY = "another-key-entirely"
    assert not kept & withdrawn_story_fingerprints(
        community="Riverside Commons", titles=["The garden"], recording_sha256=sha256
    ), "without the secret key nobody can tell which story they stand for"


def test_the_demo_seeder_leaves_a_withdrawn_demo_story_withdrawn(capsys):
    call_command("seed_demo")
    first = StoryPage.objects.visible_to_public().order_by("pk").first()
    title, public = first.title, StoryPage.objects.visible_to_public().count()
    withdraw(title)

    call_command("seed_demo")

    assert "left out: “" in capsys.readouterr().err
    assert not StoryPage.objects.filter(title=title).exists()
    assert StoryPage.objects.visible_to_public().count() == public - 1
