"""The admin's snippets of community records, within the user's reach (stories/permissions.py).

Wagtail's snippet views look a record up by the id in their address, whoever asks (a model permission is all they
check), its choosers list every row, its list filters offer every community, and its bulk delete names every record
it is given by its title. Here the snippet viewset of a community record (an invite, a dialogue, a person, a consent
record, a correction note, a withdrawal) lists only the records of the user's communities, answers every address that
names another record as it answers a missing one (404), and so do its chooser, its list filters and its bulk delete:
each asks the model's permission policy, RecordsWithinReachPolicy, which asks records_for().
"""

from functools import wraps

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_list_or_404
from django.urls import URLPattern
from django.utils.functional import classproperty
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.permissions import policy_registry
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.models import get_snippet_models
from wagtail.snippets.views import chooser
from wagtail.snippets.views.snippets import SnippetViewSet

from .permissions import is_community_record, records_for

# What a user must be allowed to do with a record for the admin to show that it exists.
ANY_ACTION = ("add", "change", "delete", "view")


def records_within_reach(user, model):
    """The rows of the model the user may see in the admin: its permission policy's answer."""
    return policy_registry.get_by_type(model).instances_user_has_any_permission_for(user, ANY_ACTION)


def within_reach(model, view):
    """The view, answering 404 for an id outside the user's reach as for an id no record has."""

    @wraps(view)
    def view_within_reach(request, *args, **kwargs):
        if "pk" in kwargs:
            try:
                named = records_within_reach(request.user, model).filter(pk=unquote(str(kwargs["pk"]))).exists()
            except (ValueError, ValidationError):
                named = False
            if not named:
                raise Http404("Nothing here.")
        return view(request, *args, **kwargs)

    return view_within_reach


class WithinReachFilterSet(WagtailFilterSet):
    """A list filter on a community record (the community filter, say) offers only those within the user's reach."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for list_filter in self.filters.values():
            if isinstance(list_filter, (ModelChoiceFilter, ModelMultipleChoiceFilter)):
                model = list_filter.queryset.model
                if is_community_record(model):
                    list_filter.queryset = records_for(user, model)


class WithinReachChooseMixin:
    def get_object_list(self):
        return records_within_reach(self.request.user, self.model_class)


class ChooseView(WithinReachChooseMixin, chooser.ChooseView):
    pass


class ChooseResultsView(WithinReachChooseMixin, chooser.ChooseResultsView):
    pass


class ChosenView(chooser.SnippetChosenView):
    def get_object(self, pk):
        return records_within_reach(self.request.user, self.model_class).get(pk=pk)


class ChosenMultipleView(chooser.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return records_within_reach(self.request.user, self.model_class).filter(pk__in=pks)


class WithinReachChooserViewSet(chooser.SnippetChooserViewSet):
    """The chooser (a story's people, dialogue and community; an invite's dialogue) lists, searches and returns only
    records within the user's reach; another id answers 404."""

    choose_view_class = ChooseView
    choose_results_view_class = ChooseResultsView
    chosen_view_class = ChosenView
    chosen_multiple_view_class = ChosenMultipleView


class ArchiveSnippetViewSet(SnippetViewSet):
    """A snippet of the archive's own records, whose list searches its `search_fields` in the database (`icontains`):
    the records are few, and a Wagtail search backend that cannot search named fields (SQLite's) answered 500."""

    search_backend_name = None


class WithinReachSnippetViewSet(ArchiveSnippetViewSet):
    """A snippet of community records: its list (and any export of it) shows only the records within the user's
    reach, every address naming a record (edit, inspect, delete, history, usage, ...) answers 404 for another, and its
    list filters and chooser offer only those within reach."""

    chooser_viewset_class = WithinReachChooserViewSet

    def get_queryset(self, request):
        return records_within_reach(request.user, self.model)

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(base_filterset_class=WithinReachFilterSet, **kwargs)

    def get_urlpatterns(self):
        return [
            URLPattern(pattern.pattern, within_reach(self.model, pattern.callback), pattern.default_args, pattern.name)
            if isinstance(pattern, URLPattern)
            else pattern
            for pattern in super().get_urlpatterns()
        ]


class WithinReachDeleteBulkAction(DeleteBulkAction):
    """Wagtail's bulk delete of snippets, for community records: an id outside the user's reach is left out before
    Wagtail splits the rest into those the user may delete and "items you don't have access to", which it lists by
    title; "select all" takes the records within reach. Registered after Wagtail's, it takes its place."""

    @classproperty
    def models(cls):
        return [model for model in get_snippet_models() if is_community_record(model)]

    def get_queryset(self, model, object_ids):
        # Wagtail declares get_queryset a classmethod but calls it on the view, which is where the user is known.
        return get_list_or_404(records_within_reach(self.request.user, model), pk__in=object_ids)

    def get_all_objects_in_listing_query(self, parent_id):
        return records_within_reach(self.request.user, self.model).values_list("pk", flat=True)
