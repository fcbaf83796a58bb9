"""The sitemap: an index of sections, each in pages of at most 50,000 addresses (the protocol's limit).

Stories are listed from the rule's stored answer by index (see stories_sitemap for why the rule itself is not asked
about each); the other public pages (home, collections, the story index) come from Wagtail's own sitemap.
"""

from xml.sax.saxutils import escape

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.functional import cached_property
from wagtail.contrib.sitemaps import Sitemap
from wagtail.contrib.sitemaps.views import index, sitemap
from wagtail.models import Page, get_page_models

from .models import PublicStory, StoryPage
from .selectors import public_count

# The sitemap protocol's limit on the addresses of one file.
ADDRESSES_PER_PAGE = 50_000


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

    @property
    def paginator(self):
        # The number of pages from the stored count, not by counting the archive on every request for the index.
        return StoredCountPaginator(self._items(), self.limit)

    def get_latest_lastmod(self):
        # Django's default reads every item; the stored answer keeps when any public record last changed.
        return PublicStory.objects.aggregate(latest=Max("changed_at"))["latest"]


def stories_sitemap(request):
    """One page of the stories' sitemap, written line by line: Django's sitemap template took 5 to 15 seconds to
    render 50,000 addresses.

    From the stored answer alone: asking the rule itself about a page of 50,000 stories took 20 seconds on SQLite at
    100,000 stories. The stored answer is written in the transaction of every announced change and compared with the
    rule every hour, and a story's own address asks the rule before it shows anything."""
    stories = StoriesSitemap(request)
    try:
        page = stories.paginator.page(request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger) as error:
        raise Http404(f"No page {request.GET.get('p')!r} of the stories' sitemap.") from error
    site = stories.get_wagtail_site()
    root_url, root_path = site.root_url, site.root_page.url_path
    lines = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for _story_id, url_path, published in page.object_list:
        if not url_path.startswith(root_path):
            continue
        location = escape(f"{root_url}/{url_path.removeprefix(root_path)}")
        lastmod = f"<lastmod>{published:%Y-%m-%d}</lastmod>" if published else ""
        lines.append(f"<url><loc>{location}</loc>{lastmod}</url>\n")
    lines.append("</urlset>\n")
    response = HttpResponse("".join(lines), content_type="application/xml")
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"
    return response


SECTIONS = {"pages": PagesSitemap, "stories": StoriesSitemap}

urlpatterns = [
    path("sitemap.xml", index, {"sitemaps": SECTIONS, "sitemap_url_name": "sitemap-section"}, name="sitemap"),
    path("sitemap-stories.xml", stories_sitemap, name="sitemap-stories"),
    path("sitemap-<section>.xml", sitemap, {"sitemaps": SECTIONS}, name="sitemap-section"),
]
