"""The page cache serves anonymous visitors every public page type from the shared cache, and forgets them all before
the response of any change that hides a story, whatever hid it."""

import datetime
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction, WorkflowState

from stories.factories import CollectionEntryFactory, CollectionPageFactory, CommunityFactory, public_story, theme
from stories.models import Consent, StoryPage, Visibility, Withdrawal
from stories.page_cache import GENERATION_KEY, HEADER, PublicPageCacheMiddleware
from stories.services import story_withdraw

STORIES = 25  # more than one page of a listing
WORD = "lanternmaker"
HIDDEN_TITLE = "Home 24 of the lanternmaker"  # the newest: on the first page of every listing


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 300


@pytest.fixture
def archive():
    community = CommunityFactory(name="Mill Creek", slug="mill-creek")
    housing = theme("humane-housing")
    stories = [
        public_story(
            title=f"Home {n:02d} of the {WORD}", summary=f"A {WORD} story.", community=community, themes=[housing]
        )
        for n in range(STORIES)
    ]
    collection = CollectionPageFactory(title="Homes", slug="homes")
    for order, story in enumerate(stories[-3:]):
        CollectionEntryFactory(page=collection, story=story, sort_order=order)
    from search.services import search_index_rebuild

    search_index_rebuild()
    return community, housing, collection, stories


def public_pages(archive) -> list[str]:
    community, housing, collection, stories = archive
    return [
        "/",
        "/stories/",
        reverse("stories:community", args=[community.slug]),
        reverse("stories:theme", args=[housing.slug]),
        collection.url,
        stories[0].url,  # shows related stories, the hidden one among them
        f"/search/?q={WORD}",
        f"/api/search?q={WORD}",
        "/api/stories",
        "/sitemap-stories.xml",
    ]


def warm(client, urls):
    for url in urls:
        first = client.get(url)
        assert first.status_code == 200, url
        second = client.get(url)
        assert second[HEADER] == "hit", url
        assert second.content == first.content, url


def test_every_public_page_type_is_served_from_the_cache(client, archive, page_cache):
    urls = [*public_pages(archive), archive[3][-1].url, reverse("stories:communities"), reverse("stories:themes")]
    warm(client, urls)


def withdraw(story):
    story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)


def unpublish(story):
    story.unpublish()


def make_private(story):
    story.visibility = Visibility.PRIVATE
    story.save()


def embargo(story):
    story.embargo_until = timezone.localdate() + datetime.timedelta(days=30)
    story.save()


def take_back_consent(story):
    consent = Consent.objects.filter(story=story).first()
    consent.withdrawn_at = timezone.now()
    consent.save()


def a_child_without_a_guardian(story):
    person = story.participants.first().person
    person.birth_year = timezone.localdate().year - 9
    person.save()


def restrict(story):
    PageViewRestriction.objects.create(page=story, restriction_type=PageViewRestriction.LOGIN)


@pytest.mark.parametrize(
    "hide", [withdraw, unpublish, make_private, embargo, take_back_consent, a_child_without_a_guardian, restrict]
)
def test_a_hidden_story_leaves_every_cached_page_at_once(client, archive, page_cache, hide):
    stories = archive[3]
    urls = public_pages(archive)
    warm(client, urls)
    for url in urls:
        assert (
            HIDDEN_TITLE in client.get(url).content.decode() or url.endswith(".xml") or url.startswith("/api/stories")
        )

    hide(StoryPage.objects.get(pk=stories[-1].pk))

    for url in urls:
        assert HIDDEN_TITLE not in client.get(url).content.decode(), url
    assert client.get(stories[-1].url).status_code in (302, 404)


def test_control_a_write_past_the_models_is_still_served_from_the_cache(client, archive, page_cache):
    """The cache is really in play: a queryset update announces nothing, and the cached home page still shows it."""
    stories = archive[3]
    warm(client, ["/"])
    StoryPage.objects.filter(pk=stories[-1].pk).update(visibility=Visibility.PRIVATE)

    assert HIDDEN_TITLE in client.get("/").content.decode()


def test_a_generation_the_cache_lost_serves_no_page_filed_before_it(client, archive, page_cache):
    """The cache may lose the generation number (evicted, or emptied) while pages filed under an earlier one are
    still there: started again, it must match none of them, or a story hidden since comes back."""
    stories = archive[3]
    cache.clear()  # as a new cache is: the first visitor starts the generation
    warm(client, ["/", "/stories/"])
    withdraw(StoryPage.objects.get(pk=stories[-1].pk))
    assert HIDDEN_TITLE not in client.get("/").content.decode(), "control: hidden from the next visitor at once"

    cache.delete(GENERATION_KEY)

    again = client.get("/stories/")  # filed under the first generation, with the story, and not asked for since
    assert again[HEADER] == "miss"
    assert HIDDEN_TITLE not in again.content.decode()


def _answered_varying_on(header):
    def view(request):
        response = HttpResponse(f"Rendered at {time.monotonic_ns()}")
        response["Vary"] = header
        return response

    middleware = PublicPageCacheMiddleware(view)
    request = RequestFactory().get(f"/a-page-varying-on-{header.lower()}/", HTTP_ACCEPT_LANGUAGE="fr")
    request.user = AnonymousUser()
    return middleware(request), middleware(request)


def test_a_page_that_varies_on_a_header_other_than_the_cookie_is_not_cached(page_cache):
    """A page is filed by its address and cookie only, so one that varies on anything else (a language, say) would be
    served to a visitor who asked for another variant: it is rendered every time instead."""
    first, second = _answered_varying_on("Cookie")
    assert second[HEADER] == "hit" and second.content == first.content, "control: one varying on the cookie is cached"

    first, second = _answered_varying_on("Accept-Language")

    assert HEADER not in second and second.content != first.content


def test_a_corrected_title_is_shown_at_once(client, archive, page_cache):
    story = StoryPage.objects.get(pk=archive[3][0].pk)
    warm(client, [story.url])
    story.title = "The lanternmaker's daughter"
    story.save_revision().publish()

    assert "The lanternmaker&#x27;s daughter" in client.get(story.url).content.decode()


def test_signed_in_people_and_private_addresses_are_never_served_from_it(client, admin_client, archive, page_cache):
    assert HEADER not in admin_client.get("/")  # an editor sees the archive as it is
    assert client.get("/")[HEADER] == "miss"
    assert HEADER not in client.get("/admin/login/")


def test_off_unless_asked_for(client, archive):
    response = client.get("/")
    assert HEADER not in response


def test_a_story_shared_and_not_yet_published_leaves_the_cached_pages_cached(client, archive, page_cache, facilitator):
    """A storyteller's submission is on no public page until a facilitator publishes it: under load, forgetting every
    page for each of its rows (the draft, its revision, workflow, consent, upload) kept the cache nearly empty."""
    from django.test import Client

    from .test_intake_support import make_invite, share_data, share_url

    invite = make_invite()
    visitor = Client()
    warm(visitor, ["/", "/stories/"])
    client.post(share_url(invite), share_data(title="The lanternmaker's new garden"))
    shared = StoryPage.objects.get(title="The lanternmaker's new garden")
    assert not shared.live

    assert visitor.get("/")[HEADER] == "hit"
    assert visitor.get("/stories/")[HEADER] == "hit"

    # Control: publishing it is a change to public pages, and they are made again at once with the story on them.
    state = WorkflowState.objects.for_instance(shared).get()
    state.current_task_state.task.specific.on_action(state.current_task_state, facilitator, "approve")
    home = visitor.get("/")
    assert home[HEADER] == "miss"
    assert "The lanternmaker&#x27;s new garden" in home.content.decode()


def test_a_deleted_recording_leaves_its_story_page_at_once(client, archive, page_cache):
    """Deleting a recording sets its stories' link to nothing before the recording's own deletion is announced, so a
    deletion forgets without asking which stories the row belonged to."""
    from tests.listening.conftest import recording

    media = recording()
    story = StoryPage.objects.get(pk=archive[3][1].pk)
    story.recording = media
    story.save_revision().publish()
    warm(client, [story.url])
    assert "<audio" in client.get(story.url).content.decode()  # control: the player was shown

    media.delete()

    page = client.get(story.url)
    assert page[HEADER] == "miss"
    assert "<audio" not in page.content.decode()
