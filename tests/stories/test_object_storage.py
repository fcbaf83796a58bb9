"""Recordings in an S3-compatible bucket (moto's server on loopback): shared, transcribed, copied, served and refused
as on the disk, with nothing left on the local disk and nothing in the bucket public."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import WorkflowState

from stories.models import StoryMedia, StoryPage, Visibility, private_storage
from stories.storage import has_local_paths, local_copy
from storyarchive.object_storage import bucket_storage
from tests.object_storage import local_files
from tests.stories.test_intake_support import make_invite, share_data, share_url
from tests.transcription.recordings import AUDIO, KNOWN_TEXT, word_error_rate
from transcription.models import Transcript

# Every serving test, run again here with the recordings in the bucket.
from .test_serving import *  # noqa: F403


@pytest.fixture(autouse=True)
def _recordings_in_the_bucket(object_storage):
    """Every test in this module, the serving tests included, runs with the private storage in the bucket."""
    assert not has_local_paths(private_storage()), "control: the private storage is the bucket"
    return object_storage


def _shared_and_published(client, facilitator, capture, *, path, title="Planting day") -> StoryPage:
    """A recording sent through the share form (the worker runs at once) and approved by a facilitator."""
    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="audio/ogg")
    with capture(execute=True):
        response = client.post(share_url(make_invite()), share_data(title=title, text="", recording=upload))
    assert response.status_code == 302, response.content.decode()[:2000]
    story = StoryPage.objects.get(title=title)
    state = WorkflowState.objects.for_instance(story).get()
    with capture(execute=True):
        state.current_task_state.task.specific.on_action(state.current_task_state, facilitator, "approve")
    story.refresh_from_db()
    return story


def test_a_shared_recording_is_kept_transcribed_and_served_from_the_bucket_alone(
    client,
    facilitator,
    django_capture_on_commit_callbacks,
    object_storage,
):
    """The share form's upload goes to the bucket; the worker transcribes it from there with the shipped model and
    writes the access copy back; a visitor seeks in it (206, 416 past the end); the local disk keeps nothing."""
    story = _shared_and_published(
        client, facilitator, django_capture_on_commit_callbacks, path=AUDIO / "jfk.ogg", title="Ask not"
    )
    assert story.is_visible_to_public()
    media = StoryMedia.objects.get()
    transcript = Transcript.objects.get(media=media)
    assert transcript.status == Transcript.Status.DONE, transcript.error
    heard = " ".join(transcript.segments.values_list("text", flat=True))
    assert word_error_rate(KNOWN_TEXT["jfk"], heard) < 0.3, heard

    keys = object_storage.keys()
    assert f"{object_storage.folder}/{media.file.name}" in keys
    assert f"{object_storage.folder}/{media.access_copy.name}" in keys
    assert object_storage.read(media.file.name) == (AUDIO / "jfk.ogg").read_bytes()
    access = object_storage.read(media.access_copy.name)
    assert access[4:8] == b"ftyp", "the access copy in the bucket is an MP4 (M4A) file"

    url = reverse("stories:recording", args=[media.id, "access"])
    response = client.get(url, headers={"Range": "bytes=100-1099"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{len(access)}"
    assert b"".join(response.streaming_content) == access[100:1100]
    past_the_end = client.get(url, headers={"Range": f"bytes={len(access)}-"})
    assert past_the_end.status_code == 416
    assert past_the_end["Content-Range"] == f"bytes */{len(access)}"

    assert local_files(object_storage.local_root) == [], "nothing stays on the local disk"
    assert not (object_storage.local_root / "recordings").exists(), "no recording was ever written to the disk"


def test_a_hidden_storys_recording_is_refused_from_the_bucket(
    client,
    facilitator,
    django_capture_on_commit_callbacks,
    object_storage,
):
    """Made private after publishing, the story's recording is a 404 that names nothing; public, it was served."""
    story = _shared_and_published(client, facilitator, django_capture_on_commit_callbacks, path=AUDIO / "garden.ogg")
    media = StoryMedia.objects.get()
    url = reverse("stories:recording", args=[media.id, "access"])
    assert client.get(url, headers={"Range": "bytes=0-99"}).status_code == 206, "control: public, it is served"

    story.visibility = Visibility.PRIVATE
    story.save_revision().publish()
    refused = client.get(url, headers={"Range": "bytes=0-99"})
    assert refused.status_code == 404
    assert "Content-Range" not in refused and "ETag" not in refused
    assert f"{object_storage.folder}/{media.access_copy.name}" in object_storage.keys(), "the file is still there"


def test_neither_the_bucket_nor_a_recording_in_it_is_public(object_storage):
    """No bucket policy, no grant to everyone on the bucket or on a stored recording."""
    from botocore.exceptions import ClientError

    from stories.media import recording_store

    with open(AUDIO / "school.ogg", "rb") as source:
        media = recording_store(source=source, original_filename="school.ogg", process=False)
    everyone = (
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    )
    client, bucket = object_storage.client, object_storage.name
    grants = client.get_bucket_acl(Bucket=bucket)["Grants"]
    grants += client.get_object_acl(Bucket=bucket, Key=f"{object_storage.folder}/{media.file.name}")["Grants"]
    assert grants, "control: the grants were read"
    assert [grant for grant in grants if grant["Grantee"].get("URI") in everyone] == []
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        client.get_bucket_policy(Bucket=bucket)
    address = private_storage().url(media.file.name)
    assert "X-Amz-Signature=" in address and "X-Amz-Expires=300" in address, "any address is signed and short-lived"


def test_a_copy_for_the_worker_is_the_stored_file_and_is_deleted_afterwards(object_storage):
    from stories.media import recording_store

    with open(AUDIO / "school.ogg", "rb") as source:
        media = recording_store(source=source, original_filename="school.ogg", process=False)
    with local_copy(private_storage(), media.file.name) as path:
        assert path.read_bytes() == (AUDIO / "school.ogg").read_bytes()
        assert path.is_relative_to(object_storage.local_root)
    assert not path.exists()
    assert local_files(object_storage.local_root) == []


def test_a_recording_refused_by_the_probe_leaves_nothing_in_the_bucket_or_on_the_disk(object_storage):
    from stories.media import RecordingRefused, recording_store

    with pytest.raises(RecordingRefused):
        recording_store(source=[b"<html>not a recording</html>" * 100], original_filename="page.mp3")
    assert object_storage.keys() == []
    assert local_files(object_storage.local_root) == []


def test_a_bucket_is_named_as_s3_and_refused_otherwise():
    options = bucket_storage("s3://archive/recordings", endpoint="https://objects.example.org", region="eu")["OPTIONS"]
    assert options["bucket_name"] == "archive" and options["location"] == "recordings"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    for wrong in ("https://objects.example.org/archive", "s3://", "s3://archive?endpoint=x"):
        with pytest.raises(ImproperlyConfigured, match="s3://bucket"):
            bucket_storage(wrong)
    with pytest.raises(ImproperlyConfigured, match="PRIVATE_STORAGE_ENDPOINT"):
        bucket_storage("s3://archive", endpoint="objects.example.org")


@pytest.mark.parametrize("accel", ["", "/_recordings/"])
def test_the_settings_read_a_bucket_and_refuse_nginx_sending_its_recordings(accel):
    """PRIVATE_STORAGE_URL makes the private storage the bucket; with X-Accel-Redirect as well, the settings refuse."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PRIVATE_STORAGE_URL": "s3://archive/recordings",
        "PRIVATE_STORAGE_ENDPOINT": "http://127.0.0.1:9",
        "STORY_MEDIA_ACCEL_REDIRECT": accel,
    }
    code = "import storyarchive.settings.base as s; print(s.STORAGES['private']['BACKEND'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if accel:
        assert done.returncode != 0 and "Leave STORY_MEDIA_ACCEL_REDIRECT empty" in done.stderr
    else:
        assert done.stdout.strip() == "storages.backends.s3.S3Storage", done.stderr


def _stored_school() -> StoryMedia:
    from stories.media import recording_store

    with open(AUDIO / "school.ogg", "rb") as source:
        return recording_store(source=source, original_filename="school.ogg", process=False)


def test_the_fixity_check_reads_the_original_from_the_bucket_and_catches_one_changed_byte(object_storage):
    from stories.services.fixity import original_problem

    media = _stored_school()
    assert original_problem(media) == "", "control: the stored original is the one uploaded"
    damaged = bytearray(object_storage.read(media.file.name))
    damaged[len(damaged) // 2] ^= 0x01
    object_storage.client.put_object(
        Bucket=object_storage.name, Key=f"{object_storage.folder}/{media.file.name}", Body=bytes(damaged)
    )
    assert "has changed since it was uploaded" in original_problem(media)
    object_storage.client.delete_object(Bucket=object_storage.name, Key=f"{object_storage.folder}/{media.file.name}")
    assert "is missing" in original_problem(media)


@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_the_buckets_recordings_and_a_restore_puts_them_back_in_it(object_storage, tmp_path):
    from stories.services.backup import backup_create, backup_restore

    media = _stored_school()
    folder = backup_create(destination=tmp_path / "backups")
    school = (AUDIO / "school.ogg").read_bytes()
    assert (folder / "private" / media.file.name).read_bytes() == school

    private_storage().delete(media.file.name)
    assert object_storage.keys() == [], "control: the bucket was emptied"
    backup_restore(source=folder)
    assert object_storage.read(media.file.name) == school
    assert local_files(object_storage.local_root) == []


def test_a_preservation_bag_copies_the_recording_from_the_bucket(object_storage, tmp_path):
    from preservation.selectors import bag_selection
    from preservation.services import bag_write
    from stories.factories import public_story

    media = _stored_school()
    story = public_story(recording=media)
    bag = bag_write(selection=bag_selection(story_id=story.pk), output_dir=tmp_path / "bags", exported_by="a test")
    originals = list(bag.rglob("recording/original.ogg"))
    assert len(originals) == 1 and originals[0].read_bytes() == (AUDIO / "school.ogg").read_bytes()


def test_withdrawing_a_story_deletes_its_recording_and_copies_from_the_bucket(
    object_storage,
    django_capture_on_commit_callbacks,
):
    from stories.factories import public_story
    from stories.models import Withdrawal
    from stories.services.withdrawal import story_withdraw
    from transcription.services import recording_prepare_playback

    media = _stored_school()
    kept = _stored_school()
    with local_copy(private_storage(), media.file.name) as path:
        recording_prepare_playback(media=media, path=path)
    story = public_story(recording=media)
    folder = f"{object_storage.folder}/recordings/{media.id.hex[:2]}/{media.id.hex}/"
    assert len([key for key in object_storage.keys() if key.startswith(folder)]) == 2, "control: original and copy"

    with django_capture_on_commit_callbacks(execute=True):
        story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    assert [key for key in object_storage.keys() if key.startswith(folder)] == []
    assert f"{object_storage.folder}/{kept.file.name}" in object_storage.keys(), "another recording is kept"


def test_a_podcast_feed_reads_its_enclosures_sizes_from_the_bucket_and_skips_a_missing_copy(client, object_storage):
    """A copy gone from the bucket leaves its story out of the feed instead of breaking the feed."""
    import feedparser

    from stories.factories import CommunityFactory, public_story
    from tests.podcasts.conftest import recording

    community = CommunityFactory(name="Harbor Point")
    heard = public_story(title="Heard", community=community, recording=recording(access_bytes=3000))
    lost = public_story(title="Lost", community=community, recording=recording(access_bytes=2000))
    object_storage.client.delete_object(
        Bucket=object_storage.name, Key=f"{object_storage.folder}/{lost.recording.access_copy.name}"
    )
    response = client.get(f"{community.get_absolute_url()}feed.xml")
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert [entry.title for entry in feed.entries] == [heard.title]
    assert feed.entries[0].enclosures[0].length == "3000"


def test_a_copy_a_killed_worker_left_behind_is_swept_after_two_days_and_a_running_ones_is_not(object_storage):
    import os
    import time

    from stories.services import share_uploads_clear_abandoned
    from stories.storage import staging_folder

    folder = staging_folder(private_storage())
    left, running = folder / "copy-left.ogg", folder / "copy-running.ogg"
    left.write_bytes(b"a copy of a recording")
    running.write_bytes(b"a copy of a recording")
    three_days_ago = time.time() - 3 * 24 * 3600
    os.utime(left, (three_days_ago, three_days_ago))
    share_uploads_clear_abandoned()
    assert not left.exists()
    assert running.exists(), "control: a copy in use is left alone"
