"""Which stories go into a bag: never a withdrawn one; one the public may not see only when asked for on purpose."""

import dataclasses

from stories.models import CollectionPage, Community, StoryPage


class NothingToBag(ValueError):
    """The selection holds no story that may be bagged; the message says why."""


@dataclasses.dataclass
class BagSelection:
    """The stories to bag, in order, and what the bag says it is."""

    stories: list[StoryPage]
    described_as: str  # "story 12", "collection growing-up", "community riverside"
    title: str
    not_public: list[int]  # ids of bagged stories the public may not see (only with include_not_public)
    left_out_not_public: int  # stories the selection held that the public may not see, left out


def _select(candidates: list[StoryPage], *, include_not_public: bool) -> tuple[list[StoryPage], list[int], int]:
    public = set(
        StoryPage.objects.visible_to_public().filter(pk__in=[s.pk for s in candidates]).values_list("pk", flat=True)
    )
    kept, not_public, left_out = [], [], 0
    for story in candidates:
        if story.withdrawn_at is not None:
            continue
        if story.pk not in public:
            if not include_not_public:
                left_out += 1
                continue
            not_public.append(story.pk)
        kept.append(story)
    return kept, not_public, left_out


def bag_selection(
    *,
    story_id: int | None = None,
    collection_slug: str | None = None,
    community_slug: str | None = None,
    include_not_public: bool = False,
) -> BagSelection:
    """The stories of one story, collection or community that may be bagged; raises NothingToBag if none."""
    if story_id is not None:
        story = StoryPage.objects.filter(pk=story_id).first()
        if story is None:
            raise NothingToBag(f"There is no story {story_id}.")
        if story.withdrawn_at is not None:
            raise NothingToBag(f"Story {story_id} was withdrawn; a withdrawn story is never bagged.")
        candidates, described_as, title = [story], f"story {story_id}", story.title
    elif collection_slug is not None:
        collection = CollectionPage.objects.filter(slug=collection_slug).first()
        if collection is None:
            raise NothingToBag(f"There is no collection {collection_slug!r}.")
        entries = collection.entries.select_related("story").order_by("sort_order", "pk")
        candidates, described_as, title = (
            [entry.story for entry in entries],
            f"collection {collection_slug}",
            collection.title,
        )
    elif community_slug is not None:
        community = Community.objects.filter(slug=community_slug).first()
        if community is None:
            raise NothingToBag(f"There is no community {community_slug!r}.")
        candidates = list(StoryPage.objects.filter(community=community).order_by("pk"))
        described_as, title = f"community {community_slug}", community.name
    else:
        raise NothingToBag("Say which story, collection or community to bag.")
    stories, not_public, left_out = _select(candidates, include_not_public=include_not_public)
    if not stories:
        reason = (
            f" {left_out} the public may not see were left out: include them on purpose (--include-not-public)."
            if left_out
            else ""
        )
        raise NothingToBag(f"The {described_as} has no story that may be bagged.{reason}")
    return BagSelection(stories, described_as, title, not_public, left_out)
