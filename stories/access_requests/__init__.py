"""Requests for access to stories "on request": who is told of a request, what the public may read of such a story.

An "on request" story is never visible to the public (StoryPage.objects.visible_to_public() leaves it out), so no
listing, count, feed, export, API, sitemap, harvest or page cache ever holds it. Only its request page and search's
"available on request" entries name it, through the reads here.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import AccessRequest, Community, Consent, StoryPage, StoryParticipant
from ..permissions import communities_for, is_administrator, stories_for
from ..roles import FACILITATORS

ON_REQUEST_MATCHES = 10


def facilitators_of(community: Community | None) -> QuerySet:
    """The people told of a request for this community's stories: its active facilitators. A story without a
    community is answered by administrators alone, so nobody is e-mailed."""
    if community is None:
        return get_user_model().objects.none()
    return community.facilitators.filter(is_active=True, groups__name=FACILITATORS).distinct()


def answerable_by(user) -> QuerySet:
    """The requests this user may see and answer: those for stories within their reach."""
    return AccessRequest.objects.filter(story__in=stories_for(user).values("pk"))


def answers_requests(user) -> bool:
    """Whether this user answers requests for at least one community (and so sees the admin's list)."""
    return is_administrator(user) or communities_for(user).exists()


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
