"""A page cache for anonymous visitors, in the shared cache, that forgets every page at once when the archive changes.

Every cached page is filed under a generation number kept in the cache. Any change that can alter a public page moves
the generation on, so every page cached before it is never read again: the visibility rule's announcements (a story
hidden, inside the transaction that hid it; any input of the rule changed, on commit), and every save or deletion
of the archive's content (stories, people, consent, collections, themes, transcripts, images, documents), both when
it happens and again on commit, so a page rendered from the old state while the change was being written is not kept
either. Forgetting is one cache write, done before the response that made the change. Rows no public page is made of
are left out: a story never published yet (a storyteller's submission), the admin's revisions, history and workflow,
and the share form's invites, uploads and submissions; otherwise each story shared forgot every page dozens of times.

A page is filed under its address and the visitor's cookie, with the generation it was rendered in, and a visitor
is answered in one read of the cache, the generation and the page at once (with Django's cache functions it took
three: the generation, the page's list of varied headers, then the page). A generation the cache lost is started
again from the clock, so it never matches a page filed before.

Only anonymous GET and HEAD requests are served from it, and only GET responses that set no cookie, are 200, vary on no
request header but the cookie, and say neither `private` nor `no-store`. Admin, share, my-story and recording
addresses never are. Off unless PAGE_CACHE_SECONDS is set (or a shared cache is configured, see settings): with each
process's own memory as the cache, one process could not make the others forget.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.cache import cc_delim_re
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language
from wagtail.models import Page

from .signals import stories_hidden, story_visibility_changed, story_withdrawn

GENERATION_KEY = "page-cache:generation"
# Where nothing may be cached: people signed in or holding a private link, uploads, recordings (byte ranges), and
# requests for access (a form for one visitor, a private link).
NEVER = (
    "/admin/",
    "/django-admin/",
    "/share/",
    "/my-story/",
    "/recordings/",
    "/documents/",
    "/request-access/",
    "/access/",
)
# Apps whose rows public pages are made of.
CONTENT_APPS = frozenset(
    {"stories", "transcription", "wagtailcore", "wagtailimages", "wagtaildocs", "taggit", "wagtailredirects"}
)
# Rows of those apps that no public page is made of (a public page changes only with a row it is made of).
PRIVATE_ROWS = frozenset(
    {
        "stories.invite",
        "stories.shareupload",
        "stories.storysubmission",
        "stories.correctionrequest",
        "stories.accessrequest",
        "stories.accessevent",
        "wagtailcore.revision",
        "wagtailcore.pagelogentry",
        "wagtailcore.modellogentry",
        "wagtailcore.workflowstate",
        "wagtailcore.taskstate",
        "wagtailcore.pagesubscription",
        "wagtailcore.comment",
        "wagtailcore.commentreply",
    }
)
HEADER = "X-Page-Cache"
# The one request header a public page varies on (sessions and CSRF say Vary: Cookie); a page that varies on any other
# is not cached, since its key would not tell the variants apart.
KEYED_HEADER = "HTTP_COOKIE"


def _generation_started() -> int:
    """A generation where there was none (never set, or lost by the cache): a number no page was filed under before,
    from the clock, since a generation counts up by one from where it started."""
    cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
    return cache.get(GENERATION_KEY)


def page_cache_forget() -> None:
    """Every page cached so far is never served again."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet, or lost: a new one matches no page filed before
        _generation_started()
        cache.incr(GENERATION_KEY)


def page_key(request) -> str:
    """Where a page is filed: its address, the visitor's cookie (an absent one apart from an empty one), and the
    language and time zone it is rendered in."""
    cookie = request.META.get(KEYED_HEADER)
    varied = "\x00absent" if cookie is None else f"\x01{cookie}"
    digest = hashlib.md5(f"{request.build_absolute_uri()}\x00{varied}".encode(), usedforsecurity=False).hexdigest()
    return f"pages:{digest}.{get_language()}.{get_current_timezone_name()}"


def forget_now_and_on_commit() -> None:
    page_cache_forget()
    transaction.on_commit(page_cache_forget)


class PublicPageCacheMiddleware:
    """Serve anonymous visitors' pages from the shared cache, filed under the current generation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = getattr(settings, "PAGE_CACHE_SECONDS", 0)
        if not seconds or not self.cacheable_request(request):
            return self.get_response(request)
        key = page_key(request)
        found = cache.get_many([GENERATION_KEY, key])
        # The generation read before the page is rendered: a change made meanwhile moves it on, and the page filed
        # under this one is never served.
        current = found.get(GENERATION_KEY)
        if current is None:
            current = _generation_started()
        filed = found.get(key)
        if filed is not None and filed[0] == current:
            response = filed[1]
            response[HEADER] = "hit"
            return response
        response = self.get_response(request)
        # A page that carries a CSRF token (a password form) is one visitor's: the middleware above adds its cookie.
        if (
            request.method == "GET"
            and self.cacheable_response(response)
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            cache.set(key, (current, response), seconds)
            response[HEADER] = "miss"
        return response

    @staticmethod
    def cacheable_request(request) -> bool:
        if request.method not in ("GET", "HEAD") or request.path.startswith(NEVER):
            return False
        user = getattr(request, "user", None)
        return not (user is not None and user.is_authenticated) and "HTTP_RANGE" not in request.META

    @staticmethod
    def cacheable_response(response) -> bool:
        control = response.get("Cache-Control", "")
        varied = {header.lower() for header in cc_delim_re.split(response.get("Vary", "")) if header}
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "private" not in control
            and "no-store" not in control
            and varied <= {"cookie"}
        )


def content_changed(sender, instance=None, created=False, **kwargs):
    if sender._meta.app_label not in CONTENT_APPS or sender._meta.label_lower in PRIVATE_ROWS:
        return
    if isinstance(instance, Page) and not instance.live and instance.first_published_at is None:
        return  # a draft never published: publishing it saves it live, which forgets
    if sender._meta.label_lower == "stories.person" and created:
        return  # nobody's page yet: joining a story is a participant's row, which is counted below
    # A deletion always forgets: by its signal, the stories that pointed at a recording point at nothing any more.
    stories = None if kwargs.get("signal") is post_delete else _stories_made_of(instance)
    if stories is not None and _never_published(stories):
        return
    forget_now_and_on_commit()


def _stories_made_of(instance) -> set[int] | None:
    """The stories a row belongs to, for the rows a storyteller's submission writes; None when it is not one."""
    label = instance._meta.label_lower if instance is not None else ""
    if label == "stories.storyparticipant":
        return {instance.page_id}
    if label in ("stories.consent", "stories.chapter"):
        return {instance.story_id}
    media_id = {"stories.storymedia": "pk", "transcription.transcript": "media_id"}.get(label)
    if media_id is None:
        return None
    from .models import StoryPage

    return set(StoryPage.objects.filter(recording_id=getattr(instance, media_id)).values_list("pk", flat=True))


def _never_published(story_ids) -> bool:
    """Every one of these stories exists and has never been live: no public page is made of them."""
    from .models import StoryPage

    ids = {pk for pk in story_ids if pk is not None}
    never = StoryPage.objects.filter(pk__in=ids, live=False, first_published_at__isnull=True)
    return never.count() == len(ids)


def rule_announced(sender, story_ids=None, story_id=None, **kwargs):
    """Forget unless every story announced is a draft never published (a submission's consent and people)."""
    announced = set(story_ids or ()) | ({story_id} if story_id is not None else set())
    if announced and _never_published(announced):
        return
    forget_now_and_on_commit()


def connect() -> None:
    post_save.connect(content_changed, dispatch_uid="page-cache-save")
    post_delete.connect(content_changed, dispatch_uid="page-cache-delete")
    m2m_changed.connect(content_changed, dispatch_uid="page-cache-m2m")
    # Hidden: inside the transaction, before any other copy of the answer is touched; the rest as announced.
    stories_hidden.connect(rule_announced, dispatch_uid="page-cache-hidden")
    story_visibility_changed.connect(rule_announced, dispatch_uid="page-cache-visibility")
    story_withdrawn.connect(rule_announced, dispatch_uid="page-cache-withdrawn")
