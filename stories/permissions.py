"""Who works on which stories in the admin: the one definition of a facilitator's reach.

A facilitator works in the communities an administrator put them in (Community.facilitators); administrators
(superusers) work in every one. A story is within a user's reach when it belongs to one of their communities and is
not private: a private story is sealed, for administrators only. "Facilitators only" stories are within the reach of
that community's facilitators. Page permissions, the explorer, the choosers and the transcription views all ask here.
"""

from functools import wraps

from django.db.models import Q, QuerySet
from django.http import Http404
from wagtail.models import PagePermissionTester
from wagtail.permission_policies.pages import PagePermissionPolicy


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


def story_within_reach(user, story) -> bool:
    """Whether the user may work on this story: stories_for() asked of one story, both as stored and as the draft or
    revision in hand says, so that neither a stored story nor a draft of it reaches past the user's communities."""
    from .models import Visibility

    if is_administrator(user):
        return True
    if user is None or not user.is_authenticated or not user.is_active or story.visibility == Visibility.PRIVATE:
        return False
    if story.pk is not None:
        stored = stories_for(user).filter(pk=story.pk).values_list("community_id", flat=True).first()
        if stored is None:
            return False
        if stored == story.community_id:
            return True
    return communities_for(user).filter(pk=story.community_id).exists()


def pages_within_reach(pages: QuerySet, user) -> QuerySet:
    """These pages without the stories outside the user's reach; pages of other kinds are Wagtail's to decide."""
    from .models import StoryPage

    if is_administrator(user):
        return pages
    return pages.filter(~Q(pk__in=StoryPage.objects.values("pk")) | Q(pk__in=stories_for(user).values("pk")))


def _refused_out_of_reach(check):
    @wraps(check)
    def checked(self, *args, **kwargs):
        return self.story_within_reach and check(self, *args, **kwargs)

    return checked


class StoryPermissionTester(PagePermissionTester):
    """Wagtail's page permissions, refusing everything for a story outside the user's reach."""

    def __init__(self, user, page):
        super().__init__(user, page)
        self.story_within_reach = story_within_reach(user, page)


# Every check Wagtail asks of a page (can_edit, can_publish, can_view_revisions, ...), this version's and later ones'.
for _name in dir(PagePermissionTester):
    if _name.startswith("can_") and callable(getattr(PagePermissionTester, _name)):
        setattr(StoryPermissionTester, _name, _refused_out_of_reach(getattr(PagePermissionTester, _name)))


class PagesWithinReachPolicy(PagePermissionPolicy):
    """Wagtail's page permission policy, whose lists of pages a user may explore or act on (the explorer, the admin's
    page search, reports) leave out the stories outside the user's reach."""

    def instances_user_has_any_permission_for(self, user, actions):
        return pages_within_reach(super().instances_user_has_any_permission_for(user, actions), user)

    def explorable_instances(self, user):
        return pages_within_reach(super().explorable_instances(user), user)


class StoryOutOfReachMiddleware:
    """The admin's page views answer a story outside the user's reach as they answer a missing page: 404.

    The tester above already refuses every action; Wagtail answers a refusal by sending the user to the dashboard,
    which tells that the page exists, and its workflow actions ask the task's group rather than the page."""

    PAGE_ARGUMENTS = ("page_id", "pk", "page_to_move_id", "parent_page_id")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from .models import StoryPage

        match = request.resolver_match
        # The address first: only the admin's page addresses name pages, and asking who the user is reads the
        # session, which a public page must not do (it would vary by cookie, and an old cookie would be deleted).
        named = self._pages_named(match, view_kwargs, request) if match is not None else []
        if not named:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_administrator(user):
            return None
        if StoryPage.objects.filter(pk__in=named).exclude(pk__in=stories_for(user).values("pk")).exists():
            raise Http404("No page here.")
        return None

    def _pages_named(self, match, view_kwargs, request) -> list[int]:
        """The page ids this admin address names: in its path, or a bulk action's ?id= on pages."""
        if "wagtailadmin_pages" in match.namespaces or (match.url_name or "").startswith("wagtailadmin_explore"):
            named = [view_kwargs[name] for name in self.PAGE_ARGUMENTS if view_kwargs.get(name) is not None]
        elif match.url_name == "wagtail_bulk_action" and view_kwargs.get("model_name") == "page":
            named = request.GET.getlist("id")
        else:
            return []
        return [int(value) for value in named if str(value).isdigit()]
