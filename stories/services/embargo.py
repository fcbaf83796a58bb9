"""Embargoes that end: published stories opened to the public on their date."""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from ..models import (
    StoryPage,
)
from ..signals import story_visibility_changed

logger = logging.getLogger(__name__)


@transaction.atomic
def embargo_lift(*, today: datetime.date | None = None) -> list[int]:
    """Open the published stories whose embargo date has come to the public, and announce it. Returns their ids."""
    today = today or timezone.localdate()
    # Only stories a facilitator has published: an embargo date never publishes a story nobody approved.
    due = StoryPage.objects.select_for_update().filter(
        live=True, embargo_until__isnull=False, embargo_until__lte=today, withdrawn_at__isnull=True
    )
    lifted = list(due.values_list("pk", flat=True))
    StoryPage.objects.filter(pk__in=lifted).update(embargo_until=None)
    for story_id in lifted:
        transaction.on_commit(
            lambda story_id=story_id: story_visibility_changed.send(sender=StoryPage, story_id=story_id)
        )
    if lifted:
        logger.info("lifted the embargo on stories %s", lifted)
    return lifted
