"""Wagtail's reports that count or name pages by other means than the page permission policy, within the user's
reach (stories/permissions.py).

Locked pages, aging pages and the workflow reports ask the registered page permission policy, which already leaves
out the stories outside the user's reach. Page types usage counts every page of each type and names the one edited
last; site history lists the log entries of records by content type, and a consent's entry is labelled with its
story's title. These two are served here, at Wagtail's own addresses (storyarchive/urls.py puts them first)."""

from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.urls import path
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.models import ModelLogEntry, Page, PageLogEntry

from .permissions import is_administrator, is_community_record, pages_within_reach, records_for


def log_entries_within_reach(entries: QuerySet, user) -> QuerySet:
    """These log entries, less those of a page or a community record (a consent, a person, an invite) outside the
    user's reach (pages_within_reach, records_for); an administrator's, all of them."""
    if is_administrator(user):
        return entries
    if issubclass(entries.model, PageLogEntry):
        return entries.filter(page_id__in=pages_within_reach(Page.objects.all(), user).values("pk"))
    if issubclass(entries.model, ModelLogEntry):
        from django.contrib.contenttypes.models import ContentType

        for content_type_id in set(entries.values_list("content_type_id", flat=True).order_by()):
            model = ContentType.objects.get_for_id(content_type_id).model_class()
            if model is None or not is_community_record(model):
                continue
            within = records_for(user, model).values_list(Cast("pk", CharField()), flat=True)
            entries = entries.exclude(Q(content_type_id=content_type_id) & ~Q(object_id__in=within))
    return entries


class SiteHistoryWithinReachView(LogEntriesView):
    def filter_queryset(self, queryset):
        # Wagtail filters each log model's entries here before joining them into one list.
        return log_entries_within_reach(super().filter_queryset(queryset), self.request.user)


class PageTypesUsageWithinReachView(PageTypesUsageReportView):
    """Each page type with how many of the pages within the user's reach are of it, and which was edited last."""

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if is_administrator(user):
            return queryset
        within = pages_within_reach(Page.objects.all(), user)
        cleaned = self.filters.form.cleaned_data
        language_code, site_root_path = cleaned.get("page_locale"), cleaned.get("site")
        if language_code:
            within = within.filter(locale__language_code=language_code)
        if site_root_path:
            within = within.filter(path__startswith=site_root_path)
        latest = within.filter(content_type=OuterRef("pk")).order_by(
            F("latest_revision_created_at").desc(nulls_last=True), "title", "-pk"
        )
        counted = Page.objects.filter(pk__in=within.values("pk"), content_type=OuterRef("pk"))
        return queryset.annotate(
            count_within_reach=Subquery(
                counted.order_by().values("content_type").annotate(n=Count("pk")).values("n")[:1]
            ),
            last_edited_within_reach=Subquery(latest.values("pk")[:1]),
        ).order_by(F("count_within_reach").desc(nulls_last=True), "app_label", "model")

    def decorate_paginated_queryset(self, page_types):
        for item in page_types:
            if hasattr(item, "count_within_reach"):
                item.count = item.count_within_reach or 0
                item.last_edited_page_id = item.last_edited_within_reach
        return super().decorate_paginated_queryset(page_types)


def _admin(view):
    return never_cache(require_admin_access(view))


urlpatterns = [
    path("site-history/", _admin(SiteHistoryWithinReachView.as_view()), name="site_history"),
    path(
        "site-history/results/",
        _admin(SiteHistoryWithinReachView.as_view(results_only=True)),
        name="site_history_results",
    ),
    path("page-types-usage/", _admin(PageTypesUsageWithinReachView.as_view()), name="page_types_usage"),
    path(
        "page-types-usage/results/",
        _admin(PageTypesUsageWithinReachView.as_view(results_only=True)),
        name="page_types_usage_results",
    ),
]
