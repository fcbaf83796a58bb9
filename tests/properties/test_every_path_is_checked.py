"""Every address the archive answers is read by the consent property test's check of the public paths
(`assert_public_paths_follow_the_rule` in test_consent_state_machine.py), or is named in NOT_CHECKED with the reason it
can tell nothing of a story the public may not see. A new address fails here until it joins the check or is named, so
no path is left out of the property test by being forgotten."""

import pytest
from django.apps import apps
from django.core.signals import request_started
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver, include, path, resolve
from django.urls.exceptions import Resolver404
from wagtail import views as wagtail_views
from wagtail.models import Page, Site

from stories.models import StoryPage
from stories.routes import story_routes
from tests.properties.test_consent_state_machine import assert_public_paths_follow_the_rule, build_archive

pytestmark = pytest.mark.property

# Behind a sign-in, for staff: their own tests check who may open what.
SIGNED_IN = ("admin/", "django-admin/")

NOT_CHECKED = {
    "wagtail_serve": "Wagtail's pages, which count here by their kind (page ...)",
    "^api/": "a 404 in JSON for any other address under /api/",
    "api:api-root": "the list of the API's addresses",
    "api:openapi-json": "the API's schema: no story in it",
    "api:openapi-view": "the page that shows the API's schema",
    "stories:robots": "a fixed file",
    "stories:favicon": "a fixed file",
    "wagtailcore_login": "the sign-in form",
    "wagtailcore_authenticate_with_password": "takes a restricted page's password and sends the visitor to the page",
    "wagtaildocs_authenticate_with_password": "takes a restricted document's password and sends the visitor to it",
    "stories:share": "a storyteller's invite: its token is the key, and it shows no story",
    "stories:share-sent": "the page after sharing, which names no story",
    "stories:share-uploads": "a storyteller's upload through the invite's token",
    "stories:share-upload": "a storyteller's upload through the invite's token",
    "stories:share-upload-recording": "a storyteller's own upload, heard back through the invite's token",
    "stories:my-story": "a storyteller's own story through its private link's token",
    "stories:my-story-recording": "a storyteller's own recording through its private link's token",
    "stories:my-story-transcript": "a storyteller's own transcript through its private link's token",
    "stories:access-link": "a researcher's link a facilitator granted: its token is the key",
    "stories:access-link-recording": "a researcher's link a facilitator granted: its token is the key",
}


def answered_addresses(urlconf=None) -> set[str]:
    """Every named address of the URL configuration outside the signed-in areas; every kind of page Wagtail serves;
    and the files that hang off a story's own address."""
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith(SIGNED_IN):
                    continue
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.callback is not wagtail_views.serve:
                names.add(f"{namespace}{pattern.name}" if pattern.name else str(pattern.pattern))
            elif pattern.name == "wagtail_serve":
                # The other routes to Wagtail's view are the files at a story's address, counted below.
                names.add(pattern.name)

    walk(get_resolver(urlconf).url_patterns)
    names |= {
        f"page {model._meta.label}" for model in apps.get_models() if issubclass(model, Page) and model is not Page
    }
    names |= {f"page {StoryPage._meta.label}/{name}" for name in story_routes}
    return names


def address_of(path_read: str) -> str | None:
    """The address a request for this path reaches: its name, or for a page Wagtail serves, the page's kind (and the
    file of a story's it asks for); None for a path that reaches nothing."""
    try:
        match = resolve(path_read.split("?")[0])
    except Resolver404:
        return None
    if match.func is not wagtail_views.serve:
        return match.view_name
    request = RequestFactory().get(path_read)
    site = Site.find_for_request(request)
    try:
        routed = site.root_page.localized.specific.route(request, [part for part in match.args[0].split("/") if part])
    except Http404:
        return None
    subview = routed.kwargs.get("subview")
    return f"page {routed.page._meta.label}" + (f"/{subview}" if subview else "")


def addresses_the_check_reads(client) -> set[str]:
    """What the property test's check reads, on its archive with one story hidden (a hidden story is what some
    paths, such as suggestions, are asked about)."""
    archive = build_archive()
    StoryPage.objects.get(pk=archive[3]).unpublish()
    read = []

    def heard(sender, environ, **kwargs):
        query = environ.get("QUERY_STRING")
        read.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))

    request_started.connect(heard)
    try:
        assert_public_paths_follow_the_rule(client, archive)
    finally:
        request_started.disconnect(heard)
    return {address_of(path_read) for path_read in read} - {None}


class WithANewAddress:
    """The archive's addresses and one more, as a change that adds a public listing would make them."""

    urlpatterns = [
        path("stories-by-mood/", lambda request: HttpResponse(), name="stories-by-mood"),
        path("", include("storyarchive.urls")),
    ]


def test_every_address_the_archive_answers_is_read_by_the_property_tests_check_or_says_why_not(client):
    answered = answered_addresses()
    assert set(NOT_CHECKED) <= answered, "NOT_CHECKED names an address the archive no longer answers"
    read = addresses_the_check_reads(client)
    unread = answered - set(NOT_CHECKED) - read
    assert unread == set(), (
        "the property test's check never reads these: add them to assert_public_paths_follow_the_rule, or to "
        "NOT_CHECKED with why they can tell nothing of a hidden story"
    )
    # The control, on the same reading (the check takes a while): an address added and not read is found.
    assert answered_addresses(WithANewAddress) - set(NOT_CHECKED) - read == {"stories-by-mood"}
