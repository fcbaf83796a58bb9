"""The admin's bulk actions on pages, within the user's reach (stories/permissions.py).

Wagtail builds a bulk action's list of pages from the ids asked for, or, for "select all" in a listing, from every
child of the listing's page (wagtail/admin/views/bulk_action/base_bulk_action.py, ``get_queryset``); a page the user
may not act on is listed by title among "items you don't have access to". Here a story outside the user's reach is
left out before that split, as if it did not exist, and the counts of subpages leave such stories out too."""

from django.http import Http404
from wagtail.admin.views.pages.bulk_actions import (
    DeleteBulkAction,
    MoveBulkAction,
    PublishBulkAction,
    UnpublishBulkAction,
)
from wagtail.models import Page

from .permissions import pages_within_reach

# The counts of subpages each of Wagtail's page actions shows beside a page, and which subpages each counts.
SUBPAGE_COUNTS = {
    "draft_descendant_count": lambda descendants: descendants.not_live(),
    "live_descendant_count": lambda descendants: descendants.live(),
    "descendant_count": lambda descendants: descendants,
    "child_pages": lambda descendants: descendants,
}


class WithinReachBulkAction:
    """A page bulk action that neither names, counts nor acts on a story outside the user's reach."""

    def get_queryset(self, model, object_ids):
        # Wagtail declares get_queryset a classmethod but calls it on the view, which is where the user is known.
        pages = super().get_queryset(model, object_ids)
        within = set(
            pages_within_reach(Page.objects.filter(pk__in=[page.pk for page in pages]), self.request.user).values_list(
                "pk", flat=True
            )
        )
        pages = [page for page in pages if page.pk in within]
        if not pages:
            raise Http404("No page here.")
        return pages

    def object_context(self, obj):
        context = super().object_context(obj)
        for name, which in SUBPAGE_COUNTS.items():
            if name in context:
                context[name] = pages_within_reach(which(obj.get_descendants()), self.request.user).count()
        return context


WAGTAIL_PAGE_ACTIONS = (DeleteBulkAction, MoveBulkAction, PublishBulkAction, UnpublishBulkAction)


def page_bulk_actions_within_reach() -> list[type]:
    """Each of Wagtail's page bulk actions, within reach; registered after Wagtail's own, they take their place."""
    return [
        type(action.__name__, (WithinReachBulkAction, action), {"__module__": __name__})
        for action in WAGTAIL_PAGE_ACTIONS
    ]
