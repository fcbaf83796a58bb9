"""/share/<token>/ (the share form and its resumable uploads) and /my-story/<token>/ (the storyteller's own page)."""

import logging
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse, UnreadablePostError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from .. import services
from ..generations import earliest_minor_birth_year
from ..media import RecordingRefused, RecordingTooLarge, recording_delete_files, recording_store
from ..models import Consent, ShareUpload, StoryPage
from ..serving import private_file_response
from . import throttle
from .forms import CorrectionForm, ShareForm, StorytellerFormSet, WithdrawForm, consent_wording

logger = logging.getLogger(__name__)

MANAGE_TOKEN_SESSION_KEY = "stories:manage-token"
READ_SIZE = 1024 * 1024
# Room for the form's text fields on top of the recording itself.
FORM_OVERHEAD_BYTES = 1024 * 1024


def _private(response):
    # Share and manage pages carry secrets in their URL: never cache them, never leak the URL onward.
    response["Cache-Control"] = "private, no-store"
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" and CSRF refuses the form.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unavailable(request):
    return _private(render(request, "stories/share/unavailable.html", status=404))


def _too_many(request):
    return _private(render(request, "stories/share/too_many.html", status=429))


def _too_large(request):
    limit = settings.STORY_UPLOAD_MAX_BYTES
    return _private(render(request, "stories/share/too_large.html", {"limit_gb": f"{limit / 1024**3:g}"}, status=413))


def _throttled(request, invite=None, *, scope="address") -> bool:
    if throttle.over_limit(scope=scope, key=throttle.client_address(request)):
        # Refused before the invite is counted: one client over its own limit cannot spend a community's allowance.
        return True
    return invite is not None and scope == "address" and throttle.over_limit(scope="invite", key=invite.token)


@csrf_exempt
def share(request, token):
    """The share form. CSRF is checked inside, after the size check, so an oversized body is refused unread."""
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.STORY_UPLOAD_MAX_BYTES + FORM_OVERHEAD_BYTES:
            return _too_large(request)
    return _share_form(request, token)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _share_form(request, token):
    invite = services.invite_usable(token=token)
    if invite is None:
        return _unavailable(request)
    wording = consent_wording(community_name=invite.community.name)
    if request.method == "POST":
        if _throttled(request, invite):
            return _too_many(request)
        form = ShareForm(request.POST, request.FILES)
        form_valid = form.is_valid()
        recorded_on = form.cleaned_data.get("recorded_on") if form_valid else None
        storytellers = StorytellerFormSet(
            request.POST,
            prefix="storytellers",
            form_kwargs={"recorded_year": recorded_on.year if recorded_on else None},
        )
        if form_valid and storytellers.is_valid():
            outcome = _submit(request, invite, form, storytellers, wording)
            if outcome is not None:
                return outcome
        form, refusal = _keep_the_recording(request, invite, form)
        if refusal is not None:
            return refusal
    else:
        form = ShareForm()
        storytellers = StorytellerFormSet(prefix="storytellers")
    context = {
        "invite": invite,
        "form": form,
        "kept_upload": _kept_upload(invite, form),
        # How many years back a birth year may still be a minor's: the guardian question's own test, for the page.
        "minor_years": timezone.localdate().year - earliest_minor_birth_year(timezone.localdate().year),
        "storytellers": storytellers,
        "consent_wording": wording,
        "upload_url": reverse("stories:share-uploads", args=[invite.token]),
        "chunk_bytes": getattr(settings, "STORY_UPLOAD_CHUNK_BYTES", 4 * 1024 * 1024),
    }
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "stories/share/form.html", context, status=status))


def _keep_the_recording(request, invite, form):
    """A file sent with a form that needs correcting is kept as a finished upload, so it need not be sent again."""
    uploaded = request.FILES.get("recording")
    if uploaded is None or form.data.get("upload_id") or "recording" in form.errors:
        return form, None
    try:
        upload = services.share_upload_keep(invite=invite, uploaded=uploaded)
    except RecordingTooLarge:
        return form, _too_large(request)
    except RecordingRefused as refusal:
        form.add_error("recording", str(refusal))
        return form, None
    data = form.data.copy()
    data["upload_id"] = str(upload.id)
    kept = ShareForm(data)
    kept.is_valid()
    return kept, None


def _kept_upload(invite, form):
    """The finished upload the form already holds, to show the storyteller what it is."""
    upload_id = form.data.get("upload_id") if form.is_bound else None
    if not upload_id:
        return None
    try:
        return (
            ShareUpload.objects.select_related("recording")
            .filter(pk=upload_id, invite=invite, recording__isnull=False)
            .first()
        )
    except ValidationError:
        return None


def _submit(request, invite, form, storytellers, wording):
    """Store the recording and make the story; None with errors on the form when it cannot be kept."""
    cleaned = form.cleaned_data
    media = None
    try:
        with transaction.atomic():
            if cleaned.get("upload_id"):
                upload = ShareUpload.objects.filter(pk=cleaned["upload_id"], invite=invite).first()
                if upload is None or upload.recording is None or upload.recording.stories.exists():
                    form.add_error(None, "Your recording did not finish uploading. Please choose it again.")
                    return None
                media = upload.recording
            elif cleaned.get("recording"):
                uploaded = cleaned["recording"]
                # Stored and probed here; processed only once story_submit records the storytellers' consent.
                media = recording_store(source=uploaded, original_filename=uploaded.name, process=False)
            entries = [f.entry() for f in storytellers.forms if f.has_changed() and f.cleaned_data]
            if not entries:
                form.add_error(None, "Please tell us who is telling the story.")
                return None
            story, manage_token = services.story_submit(
                invite=invite,
                title=cleaned["title"],
                storytellers=entries,
                language=cleaned["language"],
                themes=cleaned["themes"],
                text=cleaned.get("text") or "",
                recording=media,
                consent_scope=cleaned["consent_scope"],
                consent_wording=wording,
                recorded_on=cleaned.get("recorded_on"),
                email=cleaned.get("email") or "",
                manage_url_for=lambda t: request.build_absolute_uri(reverse("stories:my-story", args=[t])),
            )
    except RecordingTooLarge:
        return _too_large(request)
    except RecordingRefused as refusal:
        form.add_error("recording", str(refusal))
        return None
    except services.InviteUnusable:
        if media is not None and not cleaned.get("upload_id"):
            recording_delete_files(media=media)
        return _unavailable(request)
    except BaseException:
        if media is not None and not cleaned.get("upload_id"):
            recording_delete_files(media=media)
        raise
    request.session[MANAGE_TOKEN_SESSION_KEY] = manage_token
    logger.info("share form made story %s", story.pk)
    return redirect("stories:share-sent")


@require_http_methods(["GET"])
def share_sent(request):
    """Thank the storyteller and show their private link: once, then it is gone from the session."""
    token = request.session.pop(MANAGE_TOKEN_SESSION_KEY, None)
    manage_url = request.build_absolute_uri(reverse("stories:my-story", args=[token])) if token else ""
    return _private(render(request, "stories/share/sent.html", {"manage_url": manage_url}))


# Resumable uploads: POST to start (Upload-Length), HEAD to ask where to resume, PATCH to send the next piece.


def _upload_json(upload, offset, **extra):
    response = JsonResponse(
        {
            "id": str(upload.id),
            "url": reverse("stories:share-upload", args=[upload.invite.token, upload.id]),
            "offset": offset,
            "length": upload.length,
            **extra,
        }
    )
    response["Upload-Offset"] = str(offset)
    response["Upload-Length"] = str(upload.length)
    return _private(response)


def _json_error(message, status):
    return _private(JsonResponse({"error": message}, status=status))


@require_http_methods(["POST"])
def share_upload_start(request, token):
    invite = services.invite_usable(token=token)
    if invite is None:
        return _json_error("This link can no longer be used.", 404)
    if _throttled(request, invite):
        return _json_error("Too many tries. Please wait a while and try again.", 429)
    try:
        length = int(request.headers.get("Upload-Length", ""))
    except ValueError:
        return _json_error("The upload needs its size in an Upload-Length header.", 400)
    try:
        upload = services.share_upload_create(
            invite=invite, length=length, original_filename=unquote(request.headers.get("Upload-Filename", ""))
        )
    except RecordingTooLarge as refusal:
        return _json_error(str(refusal), 413)
    except RecordingRefused as refusal:
        return _json_error(str(refusal), 422)
    response = _upload_json(upload, 0)
    response.status_code = 201
    response["Location"] = reverse("stories:share-upload", args=[invite.token, upload.id])
    return response


@require_http_methods(["GET", "HEAD"])
def share_upload_recording(request, token, upload_id):
    """A finished upload's recording, for the storyteller to check it before sharing; never once it is a story's."""
    upload = ShareUpload.objects.select_related("recording").filter(pk=upload_id, invite__token=token).first()
    if upload is None or upload.recording is None or upload.recording.stories.exists():
        raise Http404("No recording here.")
    media = upload.recording
    response = private_file_response(
        request,
        relative_path=media.file.name,
        content_type=media.content_type or "application/octet-stream",
        public=False,
    )
    return _private(response)


@require_http_methods(["GET", "HEAD", "PATCH", "DELETE"])
def share_upload(request, token, upload_id):
    upload = ShareUpload.objects.select_related("invite", "recording").filter(pk=upload_id, invite__token=token).first()
    # A finished upload may still be attached after the invite is used up; a new piece needs a usable invite.
    if upload is None or (request.method == "PATCH" and services.invite_usable(token=token) is None):
        return _json_error("This upload is not here.", 404)
    if request.method in ("GET", "HEAD"):
        offset = services.share_upload_offset(upload=upload)
        return _upload_json(upload, offset, complete=upload.recording_id is not None)
    if request.method == "DELETE":
        if not upload.recording_id or not upload.recording.stories.exists():
            services.share_upload_discard(upload=upload)
        return _private(HttpResponse(status=204))
    if throttle.over_limit(scope="chunk", key=throttle.client_address(request)):
        return _json_error("Too many tries. Please wait a while and try again.", 429)
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        return _json_error("Each piece needs an Upload-Offset header.", 400)
    try:
        stored = services.share_upload_append(upload=upload, offset=offset, chunks=_request_pieces(request))
    except services.UploadOffsetMismatch as mismatch:
        response = _upload_json(upload, mismatch.offset, error="Resume from the offset given.")
        response.status_code = 409
        return response
    except RecordingTooLarge as refusal:
        services.share_upload_discard(upload=upload)
        return _json_error(str(refusal), 413)
    except RecordingRefused as refusal:
        services.share_upload_discard(upload=upload)
        return _json_error(str(refusal), 422)
    if stored < upload.length:
        return _upload_json(upload, stored, complete=False)
    try:
        media = services.share_upload_finish(upload=upload)
    except RecordingRefused as refusal:
        return _json_error(str(refusal), 422)
    return _upload_json(upload, stored, complete=True, recording=str(media.id), duration=media.duration_seconds)


def _request_pieces(request):
    """Read the body in pieces; a client that disconnects simply ends the stream, keeping what arrived."""
    while True:
        try:
            piece = request.read(READ_SIZE)
        except UnreadablePostError:
            logger.info("an upload piece was cut off; it resumes at the stored offset")
            return
        if not piece:
            return
        yield piece


# The storyteller's own page


def _submission_or_404(request, token):
    if throttle.over_limit(scope="manage", key=throttle.client_address(request)):
        return None, _too_many(request)
    submission = services.submission_for_token(token=token)
    if submission is None:
        return None, _private(render(request, "stories/my_story/unknown.html", status=404))
    return submission, None


def _status(story: StoryPage) -> str:
    if story.withdrawn_at:
        return "withdrawn"
    if story.is_visible_to_public():
        return "public"
    if story.live and story.embargo_until:
        return "embargoed"
    if story.live:
        return "published-not-public"
    return "in-review"


@require_http_methods(["GET", "POST"])
def my_story(request, token):
    submission, refusal = _submission_or_404(request, token)
    if refusal:
        return refusal
    story = submission.story
    correction_form, withdraw_form, notice = CorrectionForm(), WithdrawForm(), ""
    if request.method == "POST" and not story.withdrawn_at:
        if request.POST.get("action") == "correction":
            correction_form = CorrectionForm(request.POST)
            if correction_form.is_valid():
                services.correction_request_create(story=story, note=correction_form.cleaned_data["note"])
                correction_form, notice = CorrectionForm(), "Thank you. A facilitator will read your note."
        elif request.POST.get("action") == "withdraw":
            withdraw_form = WithdrawForm(request.POST)
            if withdraw_form.is_valid():
                services.story_withdraw(story=story, requested_by="storyteller")
                return redirect("stories:my-story", token=token)
    story.refresh_from_db()
    context = {
        "submission": submission,
        "story": story,
        "status": _status(story),
        "recording": story.recording,
        "has_transcript": _current_transcript(story) is not None,
        "token": token,
        "correction_form": correction_form,
        "withdraw_form": withdraw_form,
        "notice": notice,
        "consents": Consent.objects.filter(story=story).select_related("person"),
    }
    return _private(render(request, "stories/my_story/manage.html", context))


@require_http_methods(["GET", "HEAD"])
def my_story_recording(request, token):
    submission, refusal = _submission_or_404(request, token)
    if refusal:
        return refusal
    media = submission.story.recording
    if media is None or submission.story.withdrawn_at:
        raise Http404("No recording here.")
    extension = media.file.name.rsplit(".", 1)[-1]
    response = private_file_response(
        request,
        relative_path=media.file.name,
        content_type=media.content_type or "application/octet-stream",
        public=False,
        download_name=f"my-story-{submission.story.pk}.{extension}",
    )
    return _private(response)


def _current_transcript(story):
    """The transcript people read (transcription's Transcript.objects.readable()), reached through the recording."""
    media = story.recording
    transcripts = getattr(media, "transcripts", None) if media else None
    if transcripts is None:
        return None
    return transcripts.readable().first()


@require_http_methods(["GET"])
def my_story_transcript(request, token):
    submission, refusal = _submission_or_404(request, token)
    if refusal:
        return refusal
    transcript = _current_transcript(submission.story)
    if transcript is None or submission.story.withdrawn_at:
        raise Http404("No transcript yet.")
    from transcription.selectors import public_segments

    text = "\n".join(segment.text.strip() for segment in public_segments([transcript]))
    response = HttpResponse(text + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-story-{submission.story.pk}.txt"'
    return _private(response)


def invite_link_for(request, invite) -> str:
    return request.build_absolute_uri(reverse("stories:share", args=[invite.token]))
