"""/request-access/<story>/ (a story on request and the form to ask for it) and /access/<token>/ (the private link).

Every answer is `private, no-store`, so neither a shared cache nor the page cache keeps one; the private link's pages
are also `noindex` and send no referrer, since the token is in the address."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from ..models import AccessRequest, StoryPage, access_link_digest
from ..services.access import AccessRefused, access_link_used, access_request_create
from ..serving import private_file_response, recording_being_prepared
from ..share import throttle
from . import story_on_request
from .forms import AccessRequestForm


def _private(response, *, referrer: str = "same-origin"):
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # same-origin on the form (with no referrer at all browsers send "Origin: null" and CSRF refuses it).
    response["Referrer-Policy"] = referrer
    return response


def _not_on_request(request):
    return _private(render(request, "stories/access_requests/not_available.html", status=404))


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def request_access(request, story_id: int):
    """A story on request: its community, its title and summary if its storytellers agreed, and the form."""
    story = story_on_request(story_id)
    if story is None:
        return _not_on_request(request)
    status = 200
    if request.method == "POST":
        if throttle.over_limit(scope="access-request", key=throttle.client_address(request)):
            return _private(render(request, "stories/share/too_many.html", status=429))
        form = AccessRequestForm(request.POST)
        if form.is_valid():
            try:
                access_request_create(story=story, **form.cleaned_data)
            except AccessRefused:
                return _not_on_request(request)
            return redirect("stories:access-request-sent", story_id=story.pk)
        status = 400
    else:
        form = AccessRequestForm()
    return _private(
        render(request, "stories/access_requests/request.html", {"story": story, "form": form}, status=status)
    )


@require_safe
def request_sent(request, story_id: int):
    story = story_on_request(story_id)
    if story is None:
        return _not_on_request(request)
    return _private(render(request, "stories/access_requests/sent.html", {"story": story}))


def _link(request, token: str):
    """(request, None) for a link that plays now, or (None, refusal): 404 unknown, 410 ended (no title either way)."""
    if throttle.over_limit(scope="access-link", key=throttle.client_address(request)):
        return None, _private(render(request, "stories/share/too_many.html", status=429), referrer="no-referrer")
    digest = access_link_digest(token)
    access_request = AccessRequest.objects.filter(link_digest=digest).first() if digest else None
    if access_request is None:
        page = render(request, "stories/access_requests/link_unknown.html", status=404)
        return None, _private(page, referrer="no-referrer")
    # The story is asked about on every request: withdrawn, private or consent withdrawn ends the link at once.
    if not access_request.link_open() or story_on_request(access_request.story_id) is None:
        page = render(request, "stories/access_requests/link_ended.html", status=410)
        return None, _private(page, referrer="no-referrer")
    return access_request, None


@require_safe
def access_link(request, token: str):
    """The private link: the one story of the one approved request, its recording and transcript or its text."""
    from transcription.selectors import current_transcript, public_body, public_segments

    access_request, refusal = _link(request, token)
    if refusal is not None:
        return refusal
    story = StoryPage.objects.select_related("community", "recording").get(pk=access_request.story_id)
    transcript = current_transcript(media_id=story.recording_id)
    if request.method == "GET":
        access_link_used(access_request=access_request)
    context = {
        "story": story,
        "token": token,
        "access_request": access_request,
        "segments": public_segments([transcript]) if transcript else [],
        "body": public_body(story),
    }
    return _private(render(request, "stories/access_requests/story.html", context), referrer="no-referrer")


@require_safe
def access_link_recording(request, token: str):
    """The story's access copy, for the private link only (never the original)."""
    access_request, refusal = _link(request, token)
    if refusal is not None:
        return refusal
    media = StoryPage.objects.get(pk=access_request.story_id).recording
    if media is None:
        raise Http404("No recording here.")
    if not media.access_copy:
        return _private(recording_being_prepared(), referrer="no-referrer")
    response = private_file_response(
        request,
        relative_path=media.access_copy.name,
        content_type=media.access_content_type or "application/octet-stream",
        public=False,
    )
    return _private(response, referrer="no-referrer")
