"""Writes with side effects, by subject: intake, review, withdrawal, embargoes. Each is atomic and keyword-only."""

from .embargo import embargo_lift
from .intake import (
    InviteUnusable,
    StorytellerEntry,
    UploadOffsetMismatch,
    correction_request_create,
    invite_create,
    invite_usable,
    share_upload_append,
    share_upload_create,
    share_upload_discard,
    share_upload_finish,
    share_upload_keep,
    share_upload_offset,
    share_upload_path,
    share_uploads_clear_abandoned,
    story_submit,
    submission_for_token,
)
from .review import FACILITATOR_REVIEW, facilitator_review_workflow
from .withdrawal import WITHDRAWN_TITLE, story_withdraw

__all__ = [
    "FACILITATOR_REVIEW",
    "WITHDRAWN_TITLE",
    "InviteUnusable",
    "StorytellerEntry",
    "UploadOffsetMismatch",
    "correction_request_create",
    "embargo_lift",
    "facilitator_review_workflow",
    "invite_create",
    "invite_usable",
    "share_upload_append",
    "share_upload_create",
    "share_upload_discard",
    "share_upload_keep",
    "share_upload_finish",
    "share_upload_offset",
    "share_upload_path",
    "share_uploads_clear_abandoned",
    "story_submit",
    "story_withdraw",
    "submission_for_token",
]
