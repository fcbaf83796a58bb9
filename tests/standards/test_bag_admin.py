"""The admin's preservation bags: a facilitator asks for one on a story or a collection, the worker writes it with its
progress recorded, and only that facilitator downloads it. Anonymous visitors and users without the admin get nothing,
a withdrawal deletes every bag holding the story, and no public URL reaches a bag's files."""

import io
import tarfile
from pathlib import Path, PurePosixPath

import bagit
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from preservation.models import BagExport
from preservation.services import bag_root
from stories.factories import CollectionEntryFactory, CollectionPageFactory
from stories.models import StoryPage, Withdrawal
from stories.services import story_withdraw


@pytest.fixture(autouse=True)
def bags_in_tmp(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "var" / "private"
    return bag_root()


def ask_for_bag(client, page, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("preservation_bag_request", args=[page.pk]), data)


def unpack(response, into: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(b"".join(response.streaming_content))) as archive:
        members = archive.getmembers()
        # Only folders and files, each inside the bag's own folder: what tarfile's "data" filter admits, checked here
        # too because Debian 12's Python 3.11.2 predates the filter (3.11.4).
        for member in members:
            assert member.isdir() or member.isfile(), member.name
            assert not PurePosixPath(member.name).is_absolute() and ".." not in PurePosixPath(member.name).parts
        archive.extractall(into, members=members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    [bag] = into.iterdir()
    return bag


def test_a_facilitator_bags_a_story_watches_it_and_downloads_a_valid_bag(
    client, facilitator, told_aloud, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(facilitator)
    editor = client.get(reverse("wagtailadmin_pages:edit", args=[told_aloud.pk])).content.decode()
    assert "Export a preservation bag" in editor
    assert reverse("preservation_bag_request", args=[told_aloud.pk]) in editor
    form = client.get(reverse("preservation_bag_request", args=[told_aloud.pk]))
    assert form.status_code == 200 and b"full names" in form.content

    response = ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)

    export = BagExport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("preservation_bag", args=[export.pk])
    assert export.status == BagExport.Status.DONE and export.story_ids == [told_aloud.pk]
    assert export.bytes_written == export.bytes_total > told_aloud.recording.size, "progress reached the end"
    status = client.get(response["Location"]).content.decode()
    assert "Ready to download" in status and reverse("preservation_bag_download", args=[export.pk]) in status

    download = client.get(reverse("preservation_bag_download", args=[export.pk]))
    assert download.status_code == 200 and "no-store" in download["Cache-Control"]
    bag = bagit.Bag(str(unpack(download, tmp_path / "unpacked")))
    bag.validate()
    assert bag.info["Exported-By"].startswith("facilitator (facilitator@example.org)")


def test_a_collection_bag_leaves_out_what_the_public_may_not_see_unless_asked(
    client, facilitator, playlist, on_video, django_capture_on_commit_callbacks
):
    # Facilitators only: not public, within the facilitator's reach (a private story would make the collection the
    # administrators', tests/stories/test_facilitator_collections.py).
    on_video.visibility = "facilitators"
    on_video.save()
    client.force_login(facilitator)

    ask_for_bag(client, playlist, django_capture_on_commit_callbacks)
    ask_for_bag(client, playlist, django_capture_on_commit_callbacks, include_not_public="on")

    without, with_flag = BagExport.objects.order_by("pk")
    assert on_video.pk not in without.story_ids and on_video.pk in with_flag.story_ids
    info = bagit.Bag(str(bag_root() / with_flag.folder)).info
    assert info["Includes-Not-Public"].startswith("yes, exported on purpose")


def test_the_status_page_shows_the_workers_progress(client, facilitator, told_aloud):
    export = BagExport.objects.create(
        story=told_aloud, requested_by=facilitator, status=BagExport.Status.RUNNING, bytes_written=50, bytes_total=200
    )
    client.force_login(facilitator)
    page = client.get(reverse("preservation_bag", args=[export.pk])).content.decode()
    assert "Being written: 25%" in page and '<progress max="100" value="25"' in page


def test_anonymous_visitors_can_neither_ask_for_nor_download_a_bag(
    client, facilitator, told_aloud, django_capture_on_commit_callbacks
):
    client.force_login(facilitator)
    ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)
    export = BagExport.objects.get()
    client.logout()

    for response in (
        client.get(reverse("preservation_bag_request", args=[told_aloud.pk])),
        ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks),
        client.get(reverse("preservation_bag", args=[export.pk])),
        client.get(reverse("preservation_bag_download", args=[export.pk])),
        client.post(reverse("preservation_bag_delete", args=[export.pk])),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert BagExport.objects.count() == 1 and (bag_root() / export.folder).is_dir()


def test_users_without_the_admin_can_neither_ask_for_nor_download_a_bag(
    client, facilitator, told_aloud, django_user_model, django_capture_on_commit_callbacks
):
    client.force_login(facilitator)
    ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)
    export = BagExport.objects.get()
    visitor = django_user_model.objects.create_user("visitor", "visitor@example.org", "a-long-passphrase")
    client.force_login(visitor)

    asked = ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)
    download = client.get(reverse("preservation_bag_download", args=[export.pk]))

    assert asked.status_code == 302 and BagExport.objects.count() == 1
    assert download.status_code == 302 and not getattr(download, "streaming", False)


def test_another_facilitator_cannot_download_someone_elses_bag(
    client, facilitator, told_aloud, django_user_model, django_capture_on_commit_callbacks
):
    client.force_login(facilitator)
    ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)
    export = BagExport.objects.get()
    colleague = django_user_model.objects.create_user("colleague", "colleague@example.org", "a-long-passphrase")
    colleague.groups.set(facilitator.groups.all())
    client.force_login(colleague)

    refused = client.get(reverse("preservation_bag_download", args=[export.pk]))
    assert refused.status_code == 302 and refused["Location"] == "/admin/", "Wagtail's answer to PermissionDenied"
    client.force_login(facilitator)
    assert client.get(reverse("preservation_bag_download", args=[export.pk])).status_code == 200, "control"


def test_a_withdrawal_deletes_every_bag_holding_the_story(
    client, facilitator, told_aloud, on_video, django_capture_on_commit_callbacks
):
    collection = CollectionPageFactory(title="Two stories")
    CollectionEntryFactory(page=collection, story=told_aloud, sort_order=0)
    CollectionEntryFactory(page=collection, story=on_video, sort_order=1)
    client.force_login(facilitator)
    ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)
    ask_for_bag(client, collection, django_capture_on_commit_callbacks)
    ask_for_bag(client, on_video, django_capture_on_commit_callbacks)
    story_bag, collection_bag, other_bag = BagExport.objects.order_by("pk")

    with django_capture_on_commit_callbacks(execute=True):
        story_withdraw(story=told_aloud, requested_by=Withdrawal.RequestedBy.STORYTELLER)

    for export in (story_bag, collection_bag):
        export.refresh_from_db()
        assert export.status == BagExport.Status.REMOVED and "withdrawn" in export.error
        assert client.get(reverse("preservation_bag_download", args=[export.pk])).status_code == 404
    assert [path.name for path in bag_root().iterdir()] == [other_bag.folder], "the other bag stays"


def test_no_public_url_reaches_a_bags_files(client, facilitator, told_aloud, django_capture_on_commit_callbacks):
    client.force_login(facilitator)
    ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)
    client.logout()
    root = bag_root()
    for served in (settings.MEDIA_ROOT, settings.STATIC_ROOT, settings.PRIVATE_MEDIA_ROOT):
        assert not root.resolve().is_relative_to(Path(served).resolve()), f"bags lie under {served}"
    files = [path for path in root.rglob("*") if path.is_file()]
    assert any(path.name == "consent.json" for path in files), "control: the bag is there"
    for path in files:
        relative = path.relative_to(root).as_posix()
        for url in (
            f"/{relative}",
            f"{settings.MEDIA_URL}{relative}",
            f"{settings.STATIC_URL}{relative}",
            f"/bags/{relative}",
            f"{settings.MEDIA_URL}bags/{relative}",
        ):
            assert client.get(url).status_code == 404, url


def test_a_story_withdrawn_while_its_bag_is_written_takes_the_bag_with_it(
    client, facilitator, told_aloud, monkeypatch, django_capture_on_commit_callbacks
):
    from preservation import services

    real_write = services.bag_write

    def withdrawn_meanwhile(**kwargs):
        path = real_write(**kwargs)
        StoryPage.objects.filter(pk=told_aloud.pk).update(withdrawn_at=timezone.now())
        return path

    monkeypatch.setattr(services, "bag_write", withdrawn_meanwhile)
    client.force_login(facilitator)
    ask_for_bag(client, told_aloud, django_capture_on_commit_callbacks)

    export = BagExport.objects.get()
    assert export.status == BagExport.Status.REMOVED and not any(bag_root().iterdir())
