"""The sitemap: an index of sections, each in pages of at most 50,000 addresses (the protocol's limit).

Stories are listed from the rule's stored answer by index, and each page of them is asked of the rule before it is
written; the other public pages (home, collections, the story index) come from Wagtail's own sitemap.
"""

from django.core.paginator import Paginator
from django.db.models import Max
from django.urls import path
from django.utils.functional import cached_property
from wagtail.contrib.sitemaps import Sitemap
from wagtail.contrib.sitemaps.views import index, sitemap
from wagtail.models import Page, get_page_models

from .models import PublicStory, StoryPage
from .selectors import public_count

# The sitemap protocol's limit on the addresses of one file.
ADDRESSES_PER_PAGE = 50_000
# Stories asked of the rule at once while a page is written.
RULE_BATCH = 2_000


class PagesSitemap(Sitemap):
    """Every public page but the stories, which have their own pages: a few, each kind read from its own table."""

    def items(self):
        root = self.get_wagtail_site().root_page
        page_ids = []
        for model in get_page_models():
            if model is Page or issubclass(model, StoryPage):
                continue
            page_ids += model.objects.live().public().filter(path__startswith=root.path).values_list("pk", flat=True)
        return Page.objects.filter(pk__in=page_ids).order_by("path").defer_streamfields().specific()


class StoredCountPaginator(Paginator):
    @cached_property
    def count(self):
        return public_count()


class StoriesSitemap(Sitemap):
    """The stories the public may see, by id, from the stored answer."""

    limit = ADDRESSES_PER_PAGE

    def items(self):
        return (
            PublicStory.objects.listed()
            .order_by("story_id")
            .values_list("story_id", "story__url_path", "story__last_published_at")
        )

    def location(self, item):
        return "/" + item[1].removeprefix(self.get_wagtail_site().root_page.url_path)

    @property
    def paginator(self):
        # The number of pages from the stored count, not by counting the archive on every request for the index.
        return StoredCountPaginator(self._items(), self.limit)

    def get_latest_lastmod(self):
        # Django's default reads every item; the stored answer keeps when any public record last changed.
        return PublicStory.objects.aggregate(latest=Max("changed_at"))["latest"]

    def lastmod(self, item):
        return item[2]

    def get_urls(self, page=1, site=None, protocol=None):
        # The site's own root address, as Wagtail's pages give theirs, not the request's host.
        self._root_url = self.get_wagtail_site().root_url
        return super().get_urls(page=page, site=site, protocol=protocol)

    def _urls(self, page, protocol, domain):
        rows = list(self.paginator.page(page).object_list)
        allowed = set()
        for start in range(0, len(rows), RULE_BATCH):
            batch = [row[0] for row in rows[start : start + RULE_BATCH]]
            allowed |= set(StoryPage.objects.visible_to_public().filter(pk__in=batch).values_list("pk", flat=True))
        root_path = self.get_wagtail_site().root_page.url_path
        urls = [
            {"item": row, "location": f"{self._root_url}{self.location(row)}", "lastmod": row[2]}
            for row in rows
            if row[0] in allowed and row[1].startswith(root_path)
        ]
        modified = [url["lastmod"] for url in urls if url["lastmod"]]
        if modified:
            self.latest_lastmod = max(modified)
        return urls


SECTIONS = {"pages": PagesSitemap, "stories": StoriesSitemap}

urlpatterns = [
    path("sitemap.xml", index, {"sitemaps": SECTIONS, "sitemap_url_name": "sitemap-section"}, name="sitemap"),
    path("sitemap-<section>.xml", sitemap, {"sitemaps": SECTIONS}, name="sitemap-section"),
]
