"""Files every site is asked for at its root: robots.txt and favicon.ico."""

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from wagtail.models import Site

# Not for search engines: the admins, a storyteller's private links, and the embeddable copy of each story page.
ROBOTS_DISALLOWED = ["/admin/", "/django-admin/", "/share/", "/my-story/", "/embed/"]


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    site = Site.find_for_request(request)
    root = site.root_url if site else request.build_absolute_uri("/").rstrip("/")
    lines = ["User-agent: *", "Allow: /", *(f"Disallow: {path}" for path in ROBOTS_DISALLOWED), ""]
    lines.append(f"Sitemap: {root}{reverse('sitemap')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    # Browsers ask /favicon.ico whatever the page links; the pages link the SVG too.
    found = finders.find("favicon.ico")
    if not found:
        raise Http404("No favicon.")
    return FileResponse(open(found, "rb"), content_type="image/x-icon")
