"""The visibility rule's inputs announce every change from the models themselves, so no writer can forget.

Pages, consent, people, participants, view restrictions and moves all pass through `rule_inputs_changed`: the rule's
stored answer (stories/models/public.py) is written for the stories touched in the same transaction, and a story the
rule now hides is forgotten by every other copy of the rule's answer before the response (`stories_hidden`, sent at
once); every story touched is announced again on commit (`story_visibility_changed`), so a story that may now be shown
is queued for the copies to pick up, the stored answer included. Hiding is synchronous; showing may wait.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from .models import Consent, Person, StoryPage, StoryParticipant
from .services.access import access_ended_for_stories
from .services.public import public_stories_record
from .signals import stories_hidden, story_visibility_changed


def rule_inputs_changed(story_ids) -> set[int]:
    """Something the rule reads changed for these stories: hide now what it hides, announce the rest on commit.

    Returns the ids the rule hides now."""
    story_ids = {int(pk) for pk in story_ids if pk is not None}
    if not story_ids:
        return set()
    visible = public_stories_record(story_ids=story_ids)
    hidden = story_ids - visible
    if hidden:
        _forget_redirects(hidden)
        stories_hidden.send(sender=StoryPage, story_ids=frozenset(hidden))
    for story_id in sorted(story_ids):
        transaction.on_commit(
            lambda story_id=story_id: story_visibility_changed.send(sender=StoryPage, story_id=story_id)
        )
    return hidden


def visibility_announced(sender, story_id, **kwargs):
    """On commit, for every story whose rule inputs changed (an embargo's date coming included): the stored answer
    catches up with what the rule allows now."""
    public_stories_record(story_ids=[story_id], edited=False)


def access_announced(sender, story_id, **kwargs):
    """On commit: a story no longer on request (withdrawn, made private or public, a consent withdrawn) ends its
    waiting requests and private links for good. Until then each link asks about its story on every request."""
    access_ended_for_stories(story_ids=[story_id])


def _forget_redirects(story_ids) -> None:
    # An old address of a story the public may not see must not lead to its new one (the slug holds title words).
    Redirect.objects.filter(redirect_page_id__in=story_ids).delete()


def _stories_at_or_below(page_id) -> list[int]:
    path = Page.objects.filter(pk=page_id).values_list("path", flat=True).first()
    if path is None:
        return []
    return list(StoryPage.objects.filter(path__startswith=path).values_list("pk", flat=True))


def story_saved_or_deleted(sender, instance, **kwargs):
    """Publication, unpublication, visibility, embargo, withdrawal, deletion: all are saves or deletes of the page."""
    rule_inputs_changed([instance.pk])


def consent_changed(sender, instance, **kwargs):
    rule_inputs_changed([instance.story_id])


def participant_changed(sender, instance, **kwargs):
    rule_inputs_changed([instance.page_id])


def person_changed(sender, instance, created=False, **kwargs):
    """A birth year (who may be a minor) or a person removed: every story they take part in."""
    if created:
        return
    rule_inputs_changed(StoryParticipant.objects.filter(person_id=instance.pk).values_list("page_id", flat=True))


def view_restriction_changed(sender, instance, **kwargs):
    """A password, login or group restriction put on a page or taken off: every story at or below it."""
    rule_inputs_changed(_stories_at_or_below(instance.page_id))


def view_restriction_groups_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        rule_inputs_changed(_stories_at_or_below(instance.page_id))


def page_moved(sender, instance, **kwargs):
    """A page moved under another: its stories now sit below other pages and their restrictions."""
    rule_inputs_changed(_stories_at_or_below(instance.pk))


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(story_saved_or_deleted, sender=StoryPage, dispatch_uid=f"stories-rule-page-{signal}")
        signal.connect(consent_changed, sender=Consent, dispatch_uid=f"stories-rule-consent-{signal}")
        signal.connect(participant_changed, sender=StoryParticipant, dispatch_uid=f"stories-rule-participant-{signal}")
        signal.connect(person_changed, sender=Person, dispatch_uid=f"stories-rule-person-{signal}")
        signal.connect(
            view_restriction_changed, sender=PageViewRestriction, dispatch_uid=f"stories-rule-restriction-{signal}"
        )
    # Wagtail saves the page before sending these; they are listened to as well so a publish that changes nothing
    # saved (a revision published as it was) is still announced.
    for signal in (page_published, page_unpublished):
        signal.connect(story_saved_or_deleted, sender=StoryPage, dispatch_uid=f"stories-rule-{signal}")
    m2m_changed.connect(
        view_restriction_groups_changed,
        sender=PageViewRestriction.groups.through,
        dispatch_uid="stories-rule-restriction-groups",
    )
    post_page_move.connect(page_moved, dispatch_uid="stories-rule-move")
    story_visibility_changed.connect(visibility_announced, dispatch_uid="stories-public-answer")
    story_visibility_changed.connect(access_announced, dispatch_uid="stories-access-requests")
