"""Who works on which stories in the admin: the one definition of a facilitator's reach.

A facilitator works in the communities an administrator put them in (Community.facilitators); administrators
(superusers) work in every one. A story is within a user's reach when it belongs to one of their communities and is
not private: a private story is sealed, for administrators only. "Facilitators only" stories are within the reach of
that community's facilitators. A collection belongs to the communities of its stories: it is within a user's reach
when every story in it is (collections_for), and one with no stories yet is its creator's. The home page and the story
index are the site's structure: only administrators edit, move, copy, unpublish or delete them, while facilitators add
stories and collections under them. Page permissions, the explorer, the choosers and the transcription views all ask
here.

The admin's other records (invites, dialogues, people, consent records, correction notes, submissions, withdrawals)
belong to communities as RECORD_BELONGING says, in one place; records_for() is what the snippets, their choosers, list
filters and form fields show a user, and RecordsWithinReachPolicy is Wagtail's permission policy that asks it.
"""

from dataclasses import dataclass
from functools import wraps

from django.db.models import Q, QuerySet
from django.http import Http404
from wagtail.models import Page, PagePermissionTester
from wagtail.permission_policies import ModelPermissionPolicy
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


def collections_for(user) -> QuerySet:
    """The collections the admin shows this user: every one to an administrator; to anyone else those whose stories
    are all within their reach (stories_for), and the empty ones they created. A collection mixing communities beyond
    the user's reach is the administrators'."""
    from .models import CollectionEntry, CollectionPage

    if is_administrator(user):
        return CollectionPage.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return CollectionPage.objects.none()
    beyond = CollectionEntry.objects.exclude(story__in=stories_for(user).values("pk")).values("page")
    holding_stories = CollectionEntry.objects.values("page")
    return CollectionPage.objects.exclude(pk__in=beyond).filter(Q(pk__in=holding_stories) | Q(owner=user))


def collection_within_reach(user, collection) -> bool:
    """collections_for() asked of one collection, both as stored and as the draft or revision in hand lists its
    stories: a draft cannot take a collection past the user's communities, nor a stored one be edited by a draft."""
    if is_administrator(user):
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if collection.pk is not None and not collections_for(user).filter(pk=collection.pk).exists():
        return False
    in_hand = {entry.story_id for entry in collection.entries.all()}
    if not in_hand:
        return collection.pk is None or collection.owner_id == user.pk
    return stories_for(user).filter(pk__in=in_hand).count() == len(in_hand)


def page_within_reach(user, page) -> bool:
    """Whether the user may work on this page: a story or a collection as above; the other pages are Wagtail's."""
    from .models import CollectionPage, StoryPage

    if isinstance(page, StoryPage):
        return story_within_reach(user, page)
    if isinstance(page, CollectionPage):
        return collection_within_reach(user, page)
    return True


@dataclass(frozen=True)
class Belonging:
    """How a kind of record belongs to communities: through each path to a community, and through each path to a story
    to that story's community unless the story is private (stories_for). A record belongs to every community one of
    its paths reaches. `sealed_by` names paths to a story whose being private keeps the record for administrators."""

    communities: tuple[str, ...] = ()
    stories: tuple[str, ...] = ()
    sealed_by: tuple[str, ...] = ()

    def condition(self, user) -> Q:
        from .models import Visibility

        within = Q(pk__in=[])
        for path in self.communities:
            within |= Q(**{f"{path}__in": communities_for(user)})
        for path in self.stories:
            within |= Q(**{f"{path}__in": stories_for(user)})
        for path in self.sealed_by:
            within &= ~Q(**{f"{path}__visibility": Visibility.PRIVATE})
        return within


# Which communities each kind of record in the admin belongs to: the one place the snippets, their choosers, list
# filters and form fields ask (through records_for). Stories and communities are stories_for() and communities_for().
RECORD_BELONGING = {
    "stories.invite": Belonging(communities=("community",)),
    "stories.dialogue": Belonging(communities=("community",)),
    # Consent records, correction notes and submissions hang off a story: a private story's are sealed with it.
    "stories.consent": Belonging(stories=("story",)),
    "stories.correctionrequest": Belonging(stories=("story",)),
    "stories.storysubmission": Belonging(stories=("story",)),
    # Someone belongs to the community they were recorded in (by a facilitator, or through an invite) and to the
    # communities of the stories they take part in or consented for; a private story gives them to no facilitator.
    "stories.person": Belonging(communities=("community",), stories=("participations__page", "consents__story")),
    # The story is an empty shell once withdrawn and may be deleted; the audit keeps the community it was withdrawn
    # from. A private story's withdrawal stays sealed while its shell is there.
    "stories.withdrawal": Belonging(communities=("community",), sealed_by=("story",)),
}


def is_community_record(model) -> bool:
    """Whether the admin shows a user only some of this model's rows: stories, communities and RECORD_BELONGING's."""
    from .models import Community, StoryPage

    return issubclass(model, (StoryPage, Community)) or model._meta.label_lower in RECORD_BELONGING


def records_for(user, model) -> QuerySet:
    """The rows of this model the admin shows this user: every one to an administrator, none to anyone signed out,
    and to a facilitator those of their communities (RECORD_BELONGING). A model that belongs to no community (themes,
    content notes) is shown whole."""
    from .models import Community, StoryPage

    if is_administrator(user) or not is_community_record(model):
        return model._default_manager.all()
    if issubclass(model, StoryPage):
        return stories_for(user)
    if issubclass(model, Community):
        # By id, so that a search backend filters on the id alone (Community.search_fields).
        return model._default_manager.filter(pk__in=communities_for(user).values("pk"))
    if user is None or not user.is_authenticated or not user.is_active:
        return model._default_manager.none()
    within = model._default_manager.filter(RECORD_BELONGING[model._meta.label_lower].condition(user))
    # By id, so that a record reached by two paths is listed once, and a search backend filters on its id alone.
    return model._default_manager.filter(pk__in=within.values("pk"))


def record_within_reach(user, record) -> bool:
    """records_for() asked of one stored record; a record not yet saved is judged by the fields it points with, which
    the admin's forms offer from records_for() alone (stories/admin_forms.py)."""
    if is_administrator(user) or record.pk is None:
        return True
    return records_for(user, type(record)).filter(pk=record.pk).exists()


class RecordsWithinReachPolicy(ModelPermissionPolicy):
    """Django's model permissions (the Facilitators group's), on the records of the user's communities only: Wagtail
    asks this of every snippet view, chooser, bulk action and edit link (stories/admin_records.py)."""

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and record_within_reach(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions) and record_within_reach(user, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return self.model._default_manager.none()
        return records_for(user, self.model)

    def users_with_any_permission_for_instance(self, actions, instance):
        users = self.users_with_any_permission(actions)
        return users.filter(pk__in=[user.pk for user in users if record_within_reach(user, instance)])


def pages_within_reach(pages: QuerySet, user) -> QuerySet:
    """These pages without the stories and collections outside the user's reach; the other pages are Wagtail's."""
    from .models import CollectionPage, StoryPage

    if is_administrator(user):
        return pages
    return pages.filter(
        ~Q(pk__in=StoryPage.objects.values("pk")) | Q(pk__in=stories_for(user).values("pk")),
        ~Q(pk__in=CollectionPage.objects.values("pk")) | Q(pk__in=collections_for(user).values("pk")),
    )


# The site's structure: moving, copying, unpublishing or deleting one of these, or changing its slug, would take every
# community's stories with it. Facilitators add pages under them (can_add_subpage, can_publish_subpage) and nothing more.
STRUCTURAL_PAGE_TYPES = ("stories.homepage", "stories.storyindexpage")
OPEN_ON_STRUCTURE = {"can_add_subpage", "can_publish_subpage", "can_view_revisions"}


def is_structural(page) -> bool:
    model = page.specific_class or type(page)
    return model._meta.label_lower in STRUCTURAL_PAGE_TYPES


def _refused_out_of_reach(check):
    @wraps(check)
    def checked(self, *args, **kwargs):
        if not self.page_within_reach:
            return False
        if self.structure_refused and check.__name__ not in OPEN_ON_STRUCTURE:
            return False
        return check(self, *args, **kwargs)

    return checked


class StoryPermissionTester(PagePermissionTester):
    """Wagtail's page permissions, refusing everything for a story or collection outside the user's reach, and all but
    adding pages beneath for the home page and the story index to anyone but an administrator."""

    def __init__(self, user, page):
        super().__init__(user, page)
        self.page_within_reach = page_within_reach(user, page)
        self.structure_refused = is_structural(page) and not is_administrator(user)


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
    """The admin's page views answer a story or collection outside the user's reach as they answer a missing page: 404.

    The tester above already refuses every action; Wagtail answers a refusal by sending the user to the dashboard,
    which tells that the page exists, and its workflow actions ask the task's group rather than the page."""

    PAGE_ARGUMENTS = ("page_id", "pk", "page_to_move_id", "parent_page_id")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        # The address first: only the admin's page addresses name pages, and asking who the user is reads the
        # session, which a public page must not do (it would vary by cookie, and an old cookie would be deleted).
        named = self._pages_named(match, view_kwargs, request) if match is not None else []
        if not named:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_administrator(user):
            return None
        if (
            Page.objects.filter(pk__in=named).count()
            > pages_within_reach(Page.objects.filter(pk__in=named), user).count()
        ):
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
