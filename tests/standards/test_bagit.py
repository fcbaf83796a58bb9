"""BagIt packages: bagit-python validates every bag and catches one flipped byte; recordings keep the checksums taken
at upload; withdrawn stories are never bagged and stories the public may not see only on purpose, which the bag says."""

import io
import itertools
import json
from pathlib import Path
from xml.etree import ElementTree

import bagit
import pytest
from django.core.management import CommandError, call_command
from wagtail.rich_text import RichText

from preservation import services
from preservation.selectors import bag_selection
from stories.factories import CollectionEntryFactory, CollectionPageFactory, PersonFactory, public_story
from stories.models import StoryPage, Visibility, Withdrawal
from stories.services import story_withdraw
from tests.transcription.recordings import AUDIO, finished_transcript, store

from .conftest import with_access_copy


def recording_of(tmp_path: Path, name: str):
    copy = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.ogg"
    copy.write_bytes((AUDIO / f"{name}.ogg").read_bytes())
    return with_access_copy(store(copy))


@pytest.fixture
def shelf(tmp_path, on_video):
    """A collection: an audio story with a transcript and a minor's guardian, a video, a written story, a private
    story and one about to be withdrawn."""
    told = public_story(
        title="The garden behind the house",
        people=[
            PersonFactory(display_name="Rosa M.", full_name="Rosa Martínez", birth_year=1948),
            PersonFactory(display_name="Jay T.", full_name="Jay Thompson", birth_year=2011),
        ],
        recording=recording_of(tmp_path, "garden"),
    )
    finished_transcript([(0.0, 3.0, "My grandmother kept a vegetable garden.")], media=told.recording)
    written = public_story(title="Written down", body=[("paragraph", RichText("<p>We walked to <b>school</b>.</p>"))])
    private = public_story(
        title="A family matter", recording=recording_of(tmp_path, "school"), visibility=Visibility.PRIVATE
    )
    taken_back = public_story(title="Taken back", recording=recording_of(tmp_path, "jfk"))
    collection = CollectionPageFactory(title="Growing up", slug="growing-up")
    for order, story in enumerate([told, on_video, written, private, taken_back]):
        CollectionEntryFactory(page=collection, story=story, sort_order=order)
    return {"told": told, "video": on_video, "written": written, "private": private, "taken_back": taken_back}


def export(tmp_path: Path, *args) -> Path:
    out = io.StringIO()
    call_command("export_bag", *args, "--output", str(tmp_path / "bags"), stdout=out, stderr=io.StringIO())
    return Path(out.getvalue().split(" (")[0])


def story_folders(bag: Path) -> dict[int, Path]:
    return {int(folder.name.split("-")[0]): folder for folder in (bag / "data" / "stories").iterdir()}


def test_a_collection_bag_is_valid_and_holds_each_storys_files(tmp_path, shelf):
    bag_path = export(tmp_path, "--collection", "growing-up")
    bag = bagit.Bag(str(bag_path))
    bag.validate()

    folders = story_folders(bag_path)
    assert set(folders) == {shelf["told"].pk, shelf["video"].pk, shelf["written"].pk, shelf["taken_back"].pk}
    told = folders[shelf["told"].pk]
    files = {str(path.relative_to(told)) for path in told.rglob("*") if path.is_file()}
    assert files == {
        "recording/original.ogg",
        "recording/access.m4a",
        "transcript/transcript.vtt",
        "transcript/transcript.txt",
        "transcript/transcript.json",
        "metadata/dublin-core.xml",
        "metadata/story.json",
        "consent.json",
    }
    assert (told / "recording" / "original.ogg").read_bytes() == Path(shelf["told"].recording.file.path).read_bytes()
    assert (told / "transcript" / "transcript.vtt").read_text().startswith("WEBVTT")
    timed = json.loads((told / "transcript" / "transcript.json").read_text())
    assert timed["segments"][0]["start"] == 0.0 and "vegetable garden" in timed["segments"][0]["text"]
    assert (folders[shelf["video"].pk] / "recording" / "poster.jpg").is_file()
    assert "We walked to school." in (folders[shelf["written"].pk] / "written" / "story.txt").read_text()

    dc = ElementTree.parse(told / "metadata" / "dublin-core.xml").getroot()
    titles = [e.text for e in dc.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert titles == ["The garden behind the house"]
    assert [e.text for e in dc.iter("{http://purl.org/dc/elements/1.1/}type")] == ["Sound"]

    consents = json.loads((told / "consent.json").read_text())
    by_name = {consent["full_name"]: consent for consent in consents}
    assert by_name["Jay Thompson"]["guardian_name"] == "A. Guardian" and by_name["Jay Thompson"]["scope"]
    assert by_name["Rosa Martínez"]["method"] == "Signed form" and by_name["Rosa Martínez"]["withdrawn_at"] is None

    info = bag.info
    assert info["Exported-By"] == "manage.py export_bag" and info["Source-Organization"] == "Story Archive"
    assert (
        info["Bagging-Date"]
        and info["Bag-Count"] == "1 of 1"
        and info["Payload-Oxum"].endswith(f".{len(bag.payload_entries())}")
    )
    assert "Includes-Not-Public" not in info
    assert info["Not-Public-Left-Out"] == "1 stories the public may not see"


def test_recording_checksums_are_the_ones_taken_at_upload(tmp_path, shelf):
    bag_path = export(tmp_path, "--collection", "growing-up")
    manifest = dict(
        reversed(line.split("  ", 1)) for line in (bag_path / "manifest-sha256.txt").read_text().splitlines()
    )
    for key in ("told", "video", "taken_back"):
        story = shelf[key]
        [original] = [
            path for path in manifest if path.startswith(f"data/stories/{story.pk}-") and "/original." in path
        ]
        assert manifest[original] == story.recording.sha256


def test_one_flipped_byte_in_a_recording_fails_validation(tmp_path, shelf):
    bag_path = export(tmp_path, "--story", str(shelf["told"].pk))
    bagit.Bag(str(bag_path)).validate()  # control: it was valid
    [original] = bag_path.glob("data/stories/*/recording/original.ogg")
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))

    with pytest.raises(bagit.BagValidationError, match="original.ogg"):
        bagit.Bag(str(bag_path)).validate()


def test_a_withdrawn_story_is_never_bagged_even_on_purpose(tmp_path, shelf):
    taken_back = shelf["taken_back"]
    story_withdraw(story=taken_back, requested_by=Withdrawal.RequestedBy.STORYTELLER)

    bag_path = export(tmp_path, "--collection", "growing-up", "--include-not-public")

    assert taken_back.pk not in story_folders(bag_path)
    assert "Taken back" not in "".join(p.read_text() for p in bag_path.rglob("*.json"))
    with pytest.raises(CommandError, match="withdrawn"):
        export(tmp_path, "--story", str(taken_back.pk), "--include-not-public")


def test_a_private_story_is_bagged_only_on_purpose_and_the_bag_says_so(tmp_path, shelf):
    private = shelf["private"]
    StoryPage.objects.filter(pk=shelf["told"].pk).update(community=private.community)
    with pytest.raises(CommandError, match="--include-not-public"):
        export(tmp_path, "--story", str(private.pk))
    assert private.pk not in story_folders(export(tmp_path, "--community", private.community.slug))

    bag_path = export(tmp_path, "--collection", "growing-up", "--include-not-public")

    bag = bagit.Bag(str(bag_path))
    bag.validate()
    assert private.pk in story_folders(bag_path)
    assert bag.info["Includes-Not-Public"].startswith("yes, exported on purpose: 1 of 5 stories")
    assert str(private.pk) in bag.info["Includes-Not-Public"]
    record = json.loads((story_folders(bag_path)[private.pk] / "metadata" / "story.json").read_text())
    assert record["public"] is False and record["visibility"] == "private"


def test_a_community_bag_of_a_draft_needs_the_flag(tmp_path, shelf):
    told, video = shelf["told"], shelf["video"]
    StoryPage.objects.filter(pk=video.pk).update(community=told.community)
    StoryPage.objects.filter(pk=told.pk).update(live=False)

    assert set(story_folders(export(tmp_path, "--community", told.community.slug))) == {video.pk}
    assert told.pk in story_folders(export(tmp_path, "--community", told.community.slug, "--include-not-public"))


def test_recordings_are_copied_in_chunks_behind_a_progress_bar(tmp_path, shelf, monkeypatch):
    """A bag of gigabytes never holds a whole recording in memory: every copy step is one chunk at most."""
    monkeypatch.setattr(services, "CHUNK_SIZE", 4096)
    steps = []
    services.bag_write(
        selection=bag_selection(story_id=shelf["told"].pk),
        output_dir=tmp_path / "bags",
        exported_by="a test",
        on_progress=lambda written, total: steps.append((written, total)),
    )
    written = [0] + [step[0] for step in steps]
    assert max(after - before for before, after in itertools.pairwise(written)) <= 4096
    assert len(steps) > shelf["told"].recording.size / 4096 and steps[-1][0] == steps[-1][1]

    err = io.StringIO()
    call_command("export_bag", "--story", str(shelf["told"].pk), "--output", str(tmp_path / "more"), stderr=err)
    assert "Bagging: 100%" in err.getvalue()
