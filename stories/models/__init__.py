"""The archive's content, by subject: catalogue, media, people and consent, pages, intake."""

from .access import AccessEvent, AccessRequest, access_link_digest, access_link_token
from .catalogue import Community, ContentNote, Dialogue, Theme
from .chapters import Chapter
from .intake import (
    CorrectionRequest,
    Invite,
    InviteQuerySet,
    ShareUpload,
    StorySubmission,
    Withdrawal,
    WithdrawnStoryFingerprint,
    invite_token,
    manage_token_digest,
    withdrawn_story_fingerprints,
)
from .media import StoryKind, StoryMedia, private_storage
from .pages import (
    CollectionEntry,
    CollectionPage,
    HomePage,
    StoryIndexPage,
    StoryKeyword,
    StoryPage,
    StoryPageManager,
    StoryPageQuerySet,
    Visibility,
)
from .people import Consent, Person, StoryParticipant
from .public import PublicCount, PublicStory, PublicStoryTheme

__all__ = [
    "AccessEvent",
    "AccessRequest",
    "Chapter",
    "CollectionEntry",
    "CollectionPage",
    "Community",
    "Consent",
    "ContentNote",
    "CorrectionRequest",
    "Dialogue",
    "HomePage",
    "Invite",
    "InviteQuerySet",
    "Person",
    "PublicCount",
    "PublicStory",
    "PublicStoryTheme",
    "ShareUpload",
    "StoryIndexPage",
    "StoryKeyword",
    "StoryKind",
    "StoryMedia",
    "StoryPage",
    "StoryPageManager",
    "StoryPageQuerySet",
    "StoryParticipant",
    "StorySubmission",
    "Theme",
    "Visibility",
    "Withdrawal",
    "WithdrawnStoryFingerprint",
    "access_link_digest",
    "access_link_token",
    "invite_token",
    "manage_token_digest",
    "private_storage",
    "withdrawn_story_fingerprints",
]
