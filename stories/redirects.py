"""Wagtail's redirects, except to a story the public may not see: an old address must not lead to a hidden story's
new one (its slug holds title words), whatever order the redirect and the hiding were written in."""

from urllib.parse import urlparse

from wagtail.contrib.redirects.middleware import RedirectMiddleware
from wagtail.models import Site

from .models import StoryPage


class PublicRedirectMiddleware(RedirectMiddleware):
    def process_response(self, request, response):
        redirected = super().process_response(request, response)
        if redirected is response or _leads_to_a_public_page(request, redirected["Location"]):
            return redirected
        return response


def _leads_to_a_public_page(request, location: str) -> bool:
    """False only for an address of this site that is a story the rule hides."""
    target = urlparse(location)
    if target.netloc and target.netloc != request.get_host():
        return True
    site = Site.find_for_request(request)
    if site is None:
        return True
    url_path = site.root_page.url_path + target.path.lstrip("/")
    if not url_path.endswith("/"):
        url_path += "/"
    story_ids = list(StoryPage.objects.filter(url_path=url_path).values_list("pk", flat=True))
    if not story_ids:
        return True
    return StoryPage.objects.visible_to_public().filter(pk__in=story_ids).exists()
