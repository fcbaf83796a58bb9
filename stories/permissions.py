"""Who works on which stories in the admin: the one definition of a facilitator's reach.

A facilitator works in the communities an administrator put them in (Community.facilitators); administrators
(superusers) work in every one. A story is within a user's reach when it belongs to one of their communities and is
not private: a private story is sealed, for administrators only. "Facilitators only" stories are within the reach of
that community's facilitators.
"""

from django.db.models import QuerySet


def is_administrator(user) -> bool:
    return bool(user is not None and user.is_active and user.is_superuser)


def communities_for(user) -> QuerySet:
    """The communities this user works in: all for an administrator, none for anyone signed out."""
    from .models import Community

    if is_administrator(user):
        return Community.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return Community.objects.none()
    return Community.objects.filter(facilitators=user)


def stories_for(user) -> QuerySet:
    """The stories the admin shows this user: every one to an administrator; to anyone else their communities'
    stories that are not private."""
    from .models import StoryPage, Visibility

    if is_administrator(user):
        return StoryPage.objects.all()
    return StoryPage.objects.filter(community__in=communities_for(user)).exclude(visibility=Visibility.PRIVATE)
