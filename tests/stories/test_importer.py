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
