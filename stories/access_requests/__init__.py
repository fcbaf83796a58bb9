"""Requests for access to stories "on request": who is told of a request, what the public may read of such a story.

An "on request" story is never visible to the public (StoryPage.objects.visible_to_public() leaves it out), so no
listing, count, feed, export, API, sitemap, harvest or page cache ever holds it. Only its request page and search's
"available on request" entries name it, through the reads here.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import Community, Consent, StoryPage, StoryParticipant
from ..roles import FACILITATORS

ON_REQUEST_MATCHES = 10


def facilitators_of(community: Community | None) -> QuerySet:
    """The people who answer requests for this community's stories (None: for any community). For now every active
    member of the Facilitators group, whatever the community: this is the one place to narrow it to a community's
    own facilitators."""
    return get_user_model().objects.filter(is_active=True, groups__name=FACILITATORS).distinct()


def may_answer(user, story: StoryPage) -> bool:
    """Whether this user may approve, decline or revoke requests for this story."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or facilitators_of(story.community).filter(pk=user.pk).exists()


def answers_requests(user) -> bool:
    """Whether this user answers requests for at least one community (and so sees the admin's list)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or facilitators_of(None).filter(pk=user.pk).exists()


def with_details_listed(stories: QuerySet) -> QuerySet:
    """Those of these stories whose every participant's active consent agrees that the title and summary may be
    shown while the story is on request (a story without participants never qualifies)."""
    agreeing = Consent.objects.filter(
        story=OuterRef(OuterRef("pk")),
        person=OuterRef("person"),
        withdrawn_at__isnull=True,
        on_request_details_listed=True,
    )
    not_agreeing = StoryParticipant.objects.filter(page=OuterRef("pk")).filter(~Exists(agreeing))
    return stories.filter(Exists(StoryParticipant.objects.filter(page=OuterRef("pk")))).exclude(Exists(not_agreeing))


def story_on_request(story_id: int) -> StoryPage | None:
    """The story if it is available on request now, with `details_listed` set; None otherwise."""
    story = StoryPage.objects.available_on_request().select_related("community").filter(pk=story_id).first()
    if story is not None:
        story.details_listed = with_details_listed(StoryPage.objects.filter(pk=story.pk)).exists()
    return story


def on_request_matching(text: str, *, limit: int = ON_REQUEST_MATCHES) -> list[StoryPage]:
    """Stories on request whose title or summary holds every word of `text`, among those whose storytellers agreed
    that title and summary may be listed. Transcripts and written text are never read."""
    words = text.split()[:8]
    if not words:
        return []
    stories = with_details_listed(StoryPage.objects.available_on_request().select_related("community"))
    for word in words:
        stories = stories.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    return list(stories.order_by("title", "pk")[:limit])
