import datetime
import uuid

from django.core.files.base import ContentFile
from wagtail.models import Site

from stories.factories import (
    CollectionEntryFactory,
    CollectionPageFactory,
    CommunityFactory,
    PersonFactory,
    public_story,
    theme,
)
from stories.media import recording_folder
from stories.models import StoryMedia, StoryPage, private_storage


def recording(
    *, access_bytes: int = 2048, duration: float = 61.4, video: bool = False, ready: bool = True
) -> StoryMedia:
    """A kept recording whose access copy (`ready`) the worker has made: only its size and type matter to a feed."""
    media_id = uuid.uuid4()
    folder = recording_folder(media_id)
    storage = private_storage()
    original = storage.save(f"{folder}/original.wav", ContentFile(b"RIFF" + bytes(60)))
    access = storage.save(f"{folder}/access.m4a", ContentFile(bytes(access_bytes))) if ready else ""
    return StoryMedia.objects.create(
        id=media_id,
        file=original,
        size=64,
        sha256=media_id.hex * 2,
        container="wav",
        audio_codec="pcm_s16le",
        video_codec="h264" if video else "",
        duration_seconds=duration,
        access_copy=access,
        access_content_type="video/mp4" if video else "audio/mp4",
    )


def story_paths() -> dict[int, str]:
    root = Site.objects.get(is_default_site=True).root_page.url_path
    return {pk: "/" + url_path.removeprefix(root) for pk, url_path in StoryPage.objects.values_list("pk", "url_path")}


def public_ids() -> set[int]:
    return set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))


def build_archive(size: int, *, community_name: str = "Harbor Point") -> list[StoryPage]:
    """`size` public stories with recordings in one community and one theme, a day apart (newest last), and a
    collection of the first five in reverse order."""
    community = CommunityFactory(name=community_name)
    housing = theme("humane-housing")
    elder = PersonFactory(display_name="Rosa M.", birth_year=1948)
    stories = []
    for n in range(size):
        stories.append(
            public_story(
                title=f"Harbour story {n}",
                summary=f"Told at the dialogue, number {n}.",
                people=[elder],
                themes=[housing],
                community=community,
                recording=recording(access_bytes=1000 + n),
                first_published_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(days=n),
            )
        )
    collection = CollectionPageFactory(title="Voices of the harbour", curator="Ana")
    for order, story in enumerate(reversed(stories[:5])):
        CollectionEntryFactory(page=collection, story=story, sort_order=order)
    return stories
