"""A story's pictures are files at public addresses (/media/): once the public may no longer see the story, no
address they had while it was public leads to them."""

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone
from wagtail_factories import ImageFactory

from stories.factories import public_story
from stories.models import Consent, StoryPage, Visibility


def picture_files(image) -> list[Path]:
    """A picture's file and its resized copies' files, as stored."""
    image.refresh_from_db()
    files = [image.file] + [rendition.file for rendition in image.renditions.all()]
    return [Path(file.path) for file in files]


def shown(*pictures) -> str:
    """A story's text of these pictures, as its body stores them."""
    return json.dumps(
        [{"type": "image", "value": {"image": p.pk, "caption": "", "alt_text": "A picture"}} for p in pictures]
    )


def _made_private(story):
    story.visibility = Visibility.PRIVATE
    story.save_revision().publish()


def _embargoed(story):
    story.embargo_until = timezone.localdate() + datetime.timedelta(days=30)
    story.save_revision().publish()


def _consent_withdrawn(story):
    consent = Consent.objects.filter(story=story).first()
    consent.withdrawn_at = timezone.now()
    consent.save()


HIDING = {
    "made private": _made_private,
    "unpublished": lambda story: story.unpublish(),
    "embargoed": _embargoed,
    "a consent withdrawn": _consent_withdrawn,
}


@pytest.mark.parametrize("cause", HIDING)
def test_the_pictures_of_a_story_the_public_no_longer_sees_leave_the_addresses_they_had(
    client, cause, django_capture_on_commit_callbacks
):
    cover, in_text = ImageFactory(title="The orchard gate"), ImageFactory(title="The orchard in May")
    story = public_story(title="The orchard", cover_image=cover)
    story.body = shown(in_text)
    story.save_revision().publish()
    other = public_story(title="The harbour", cover_image=in_text)
    for page in (story, other):
        assert client.get(page.url).status_code == 200  # makes the resized copies the pages show
    had = {picture.pk: picture_files(picture) for picture in (cover, in_text)}
    assert all(len(paths) > 1 and all(path.is_file() for path in paths) for paths in had.values())

    # Control: a change that keeps the story public leaves every address as it was.
    with django_capture_on_commit_callbacks(execute=True):
        story.summary = "Picked in May."
        story.save_revision().publish()
    assert all(path.is_file() for paths in had.values() for path in paths)

    with django_capture_on_commit_callbacks(execute=True):
        HIDING[cause](StoryPage.objects.get(pk=story.pk))

    assert not StoryPage.objects.get(pk=story.pk).is_visible_to_public()
    assert [str(path) for paths in had.values() for path in paths if path.exists()] == []
    # The pictures themselves stay, at new addresses, for the facilitators and for the story that is still public.
    for picture in (cover, in_text):
        picture.refresh_from_db()
        assert Path(picture.file.path).is_file() and Path(picture.file.path) not in had[picture.pk]
    page = client.get(other.url).content.decode()
    assert in_text.renditions.exists()
    assert all(rendition.url in page for rendition in in_text.renditions.all())
    assert not any(path.name in page for path in had[in_text.pk])


@pytest.mark.parametrize("where", ["in the admin", "by code"])
def test_the_pictures_of_a_public_story_deleted_leave_the_addresses_they_had(
    admin_client, where, django_capture_on_commit_callbacks
):
    """Wagtail's delete view unpublishes the story first; a deletion by code (a shell, a command) does not, and the
    story is hidden by the deletion of its participants, which goes before the page's."""
    from django.urls import reverse

    cover = ImageFactory(title="The mill")
    story = public_story(title="The mill race", cover_image=cover)
    kept = public_story(title="The weir", cover_image=ImageFactory(title="The weir"))
    for page in (story, kept):
        assert admin_client.get(page.url).status_code == 200
    had = picture_files(cover)
    kept_had = picture_files(kept.cover_image)
    assert len(had) > 1 and all(path.is_file() for path in had + kept_had)

    with django_capture_on_commit_callbacks(execute=True):
        if where == "in the admin":
            assert admin_client.post(reverse("wagtailadmin_pages:delete", args=[story.pk])).status_code == 302
        else:
            StoryPage.objects.get(pk=story.pk).delete()

    assert not StoryPage.objects.filter(pk=story.pk).exists()
    assert [str(path) for path in had if path.exists()] == []
    cover.refresh_from_db()
    assert Path(cover.file.path).is_file(), "the picture stays in the library, at a new address"
    assert all(path.is_file() for path in kept_had), "control: another story's picture keeps its addresses"
