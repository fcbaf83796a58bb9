"""Admin views: one story's transcripts (state, retry, re-transcribe, correct) and the report of unfinished jobs."""

import json

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from stories.models import StoryPage
from stories.permissions import stories_for

from . import services
from .forms import RedactionForm, RetranscribeForm, SegmentCorrectionForm, TranscriptUploadForm, WrittenRedactionForm
from .models import Redaction, RedactionEvent, RedactionRemake, Transcript, WrittenRedaction
from .playback import original_redaction_refusal
from .selectors import (
    REDACTABLE_BLOCKS,
    block_text,
    current_transcript,
    latest_transcript,
    public_body,
    redacted_segments,
    speaker_names,
    unfinished_redaction_remakes,
    unfinished_transcripts,
)
from .transcript_files import clock


def _editable_story(request, page_id: int) -> StoryPage:
    """The story, if this user may edit it; one outside their communities, or that they may not edit, answers as a
    missing one does (404), so that an id tells no one whether a story exists."""
    story = get_object_or_404(stories_for(request.user), pk=page_id)
    if not story.permissions_for_user(request.user).can_edit():
        raise Http404("No story here.")
    return story


def _story_transcript(request, page_id: int, transcript_id: int) -> tuple[StoryPage, Transcript]:
    story = _editable_story(request, page_id)
    transcript = get_object_or_404(Transcript, pk=transcript_id, media_id=story.recording_id)
    return story, transcript


def story_transcripts(request, page_id: int):
    """Processing state, the transcripts made by each model, and the current one's segments to correct."""
    story = _editable_story(request, page_id)
    transcripts = list(Transcript.objects.filter(media_id=story.recording_id).order_by("-is_current", "-updated_at"))
    shown = next((t for t in transcripts if t.pk == _int(request.GET.get("transcript"))), None) or (
        transcripts[0] if transcripts else None
    )
    correction = corrector = None
    if shown and shown.status == Transcript.Status.DONE:
        correction = SegmentCorrectionForm(segments=shown.segments.order_by("index"))
        corrector = {
            "transcript": corrector_state(shown),
            "speakers": [{"id": pk, "name": name} for pk, name in speaker_names(story).items()],
            "duration": shown.duration_seconds or story.recording.duration_seconds,
        }
    return TemplateResponse(
        request,
        "transcription/admin/story_transcripts.html",
        {
            "story": story,
            "transcripts": transcripts,
            "shown": shown,
            "correction": correction,
            "corrector": corrector,
            "retranscribe": RetranscribeForm(),
            "remake": _remake_of(story),
        },
    )


def _remake_of(story: StoryPage) -> RedactionRemake | None:
    """The making again of the recording's copies after its redactions changed, unless it is done."""
    return (
        RedactionRemake.objects.exclude(status=RedactionRemake.Status.DONE).filter(media_id=story.recording_id).first()
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_POST
def transcript_correct(request, page_id: int, transcript_id: int):
    story, transcript = _story_transcript(request, page_id, transcript_id)
    form = SegmentCorrectionForm(request.POST, segments=transcript.segments.order_by("index"))
    if form.is_valid():
        changed = services.transcript_correct(transcript=transcript, texts=form.corrected_texts())
        messages.success(request, f"Saved. {changed} segment(s) corrected; the transcript is marked reviewed.")
    else:
        messages.error(request, "A segment cannot be left empty.")
    return redirect(f"{_story_url(story)}?transcript={transcript.pk}")


def corrector_state(transcript: Transcript) -> dict:
    """What the corrector shows: the transcript's version and its segments in order."""
    return {
        "id": transcript.pk,
        "version": transcript.version,
        "segments": [
            {"id": pk, "start": start, "end": end, "text": text, "speaker": speaker_id, "edited": edited}
            for pk, start, end, text, speaker_id, edited in transcript.segments.order_by("index").values_list(
                "pk", "start", "end", "text", "speaker_id", "edited"
            )
        ],
        # The corrector shows the words as they were said; these segments the public reads as "[redacted]".
        "redacted": [segment.pk for segment in redacted_segments(transcript)],
    }


class _BadChange(ValueError):
    pass


def _number(change: dict, name: str) -> float:
    try:
        value = float(change[name])
    except (KeyError, TypeError, ValueError) as error:
        raise _BadChange(f"“{name}” must be a number.") from error
    if value != value or value in (float("inf"), float("-inf")):
        raise _BadChange(f"“{name}” must be a number.")
    return value


def _apply(change: dict, *, story: StoryPage, transcript: Transcript) -> Transcript:
    action = change.get("action")
    common = {
        "transcript": transcript,
        "version": int(_number(change, "version")),
        "segment_id": int(_number(change, "segment")),
    }
    if action == "text":
        return services.segment_text_set(**common, text=str(change.get("text", "")))
    if action == "speaker":
        speaker = change.get("speaker")
        return services.segment_speaker_set(
            **common, story=story, speaker_id=None if speaker in (None, "") else int(_number(change, "speaker"))
        )
    if action == "times":
        return services.segment_times_set(**common, start=_number(change, "start"), end=_number(change, "end"))
    if action == "merge":
        return services.segments_merge(**common)
    if action == "split":
        text = change.get("text")
        return services.segment_split(**common, at=int(_number(change, "at")), text=None if text is None else str(text))
    raise _BadChange("Unknown change: use text, speaker, times, merge or split.")


@require_POST
def transcript_change(request, page_id: int, transcript_id: int):
    """The corrector's autosave: one change (JSON) made against the version the editor saw; 409 if it moved on."""
    story, transcript = _story_transcript(request, page_id, transcript_id)
    try:
        change = json.loads(request.body or b"{}")
        if not isinstance(change, dict):
            raise _BadChange("Send one change as a JSON object.")
        transcript = _apply(change, story=story, transcript=transcript)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse({"detail": "Send one change as a JSON object."}, status=400)
    except _BadChange as error:
        return JsonResponse({"detail": str(error)}, status=400)
    except services.TranscriptChanged as conflict:
        return JsonResponse({"detail": str(conflict), "version": conflict.version}, status=409)
    except services.CorrectionRefused as refusal:
        return JsonResponse({"detail": str(refusal)}, status=400)
    return JsonResponse(corrector_state(transcript))


@require_POST
def transcript_retry(request, page_id: int, transcript_id: int):
    story, transcript = _story_transcript(request, page_id, transcript_id)
    try:
        services.transcript_retry(transcript=transcript)
        messages.success(request, "Queued again. The worker will pick it up shortly.")
    except services.CorrectionsWouldBeLost as refusal:
        messages.error(request, str(refusal))
    return redirect(_story_url(story))


@require_POST
def transcript_make_current(request, page_id: int, transcript_id: int):
    story, transcript = _story_transcript(request, page_id, transcript_id)
    services.transcript_make_current(transcript=transcript)
    messages.success(request, f"People now read the {transcript.model_name} transcript.")
    return redirect(_story_url(story))


@require_POST
def story_retranscribe(request, page_id: int):
    story = _editable_story(request, page_id)
    form = RetranscribeForm(request.POST)
    if story.recording is None or not form.is_valid():
        messages.error(request, "Choose a model for a story that has a recording.")
        return redirect(_story_url(story))
    try:
        services.transcript_request(
            media=story.recording,
            model_name=form.cleaned_data["model_name"],
            supersede_corrections=form.cleaned_data["supersede_corrections"],
        )
        messages.success(request, f"Queued with {form.cleaned_data['model_name']}.")
    except services.CorrectionsWouldBeLost as refusal:
        messages.error(request, str(refusal))
    return redirect(_story_url(story))


def story_transcript_upload(request, page_id: int):
    """Attach a transcript people made: choose or paste it, see what was read, then replace what people read."""
    story = _editable_story(request, page_id)
    if story.recording is None:
        messages.error(request, "This story has no recording to attach a transcript to.")
        return redirect(_story_url(story))
    duration = story.recording.duration_seconds
    form = TranscriptUploadForm(request.POST or None, request.FILES or None, duration=duration)
    preview = None
    if request.method == "POST" and form.is_valid():
        parsed, file_name = form.parsed, form.cleaned_data["file_name"]
        if "replace" in request.POST:
            try:
                transcript = services.transcript_upload(
                    media=story.recording, parsed=parsed, file_name=file_name, language=story.language
                )
            except services.UploadRefused as refusal:
                messages.error(request, str(refusal))
                return redirect(_story_url(story))
            if parsed.timed:
                messages.success(
                    request,
                    f"People now read the uploaded transcript ({len(parsed.cues)} segments), marked reviewed; "
                    "search is being updated. The earlier transcript is kept below.",
                )
            else:
                messages.success(
                    request,
                    "Queued: the worker is lining the words up with the recording. Until it is done, people read "
                    "the transcript they read now.",
                )
            return redirect(f"{_story_url(story)}?transcript={transcript.pk}")
        preview = {
            "parsed": parsed,
            "file_name": file_name,
            "first_cues": [(clock(cue.start), clock(cue.end), cue.text) for cue in parsed.cues[:5]],
            "span": [clock(moment) for moment in parsed.span] if parsed.span else None,
            "first_lines": [line for line in parsed.text.splitlines() if line.strip()][:5],
            "text": form.cleaned_data["text"],
            "current": current_transcript(media_id=story.recording_id),
        }
    return TemplateResponse(
        request,
        "transcription/admin/transcript_upload.html",
        {"story": story, "form": form, "preview": preview, "duration": clock(duration) if duration else None},
    )


def unfinished_report(request):
    """Failed and pending transcripts, and copies still to be made again after a redaction, for the stories this
    person may edit."""
    rows, remakes = [], []
    for transcript in unfinished_transcripts():
        stories = [s for s in StoryPage.objects.filter(recording_id=transcript.media_id) if _can_edit(request, s)]
        if stories or request.user.is_superuser:
            rows.append({"transcript": transcript, "stories": stories})
    for remake in unfinished_redaction_remakes():
        stories = [s for s in StoryPage.objects.filter(recording_id=remake.media_id) if _can_edit(request, s)]
        if stories or request.user.is_superuser:
            remakes.append({"remake": remake, "stories": stories})
    return TemplateResponse(request, "transcription/admin/unfinished_report.html", {"rows": rows, "remakes": remakes})


def _can_edit(request, story: StoryPage) -> bool:
    return story.permissions_for_user(request.user).can_edit()


def _story_url(story: StoryPage) -> str:
    return reverse("transcription_admin:story", args=[story.pk])


def processing_label(story: StoryPage) -> str:
    """What the story's header button says: where its transcript has got to, or that it cannot be played."""
    media = story.recording
    if media is not None and RedactionRemake.objects.filter(media=media, status=RedactionRemake.Status.FAILED).exists():
        return "Recording: redacted copy not made (failed)"
    if media is not None and not media.access_copy and media.access_copy_error:
        return "Recording: no listening copy (failed)"
    transcript = latest_transcript(media_id=story.recording_id)
    if transcript is None:
        return "Transcript: not requested"
    if transcript.status == Transcript.Status.RUNNING:
        return f"Transcript: running, {transcript.progress}%"
    if transcript.status == Transcript.Status.DONE and transcript.no_speech:
        return "Transcript: no speech detected"
    return f"Transcript: {transcript.get_status_display().lower()}"


def story_redactions(request, page_id: int):
    """The recording's redactions with their reasons, and the form to redact another passage."""
    story = _editable_story(request, page_id)
    if story.recording is None:
        messages.error(request, "This story has no recording to redact.")
        return redirect(_story_url(story))
    shown = current_transcript(media_id=story.recording_id)
    segments = list(shown.segments.order_by("index")) if shown else []
    duration = story.recording.duration_seconds or (shown.duration_seconds if shown else None)
    media = story.recording
    form = RedactionForm(
        request.POST or None,
        segments=segments,
        duration=duration,
        original_refusal=original_redaction_refusal(audio_codec=media.audio_codec, file_name=media.file.name),
    )
    if request.method == "POST" and form.is_valid():
        redaction = services.redaction_create(
            media=media,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            reason=form.cleaned_data["reason"],
            original_too=form.cleaned_data["original_too"],
            user=request.user,
        )
        original = (
            " The original is being written again with silence there too; its sound cannot be brought back."
            if redaction.original_too
            else " The original is unchanged, for facilitators only."
        )
        messages.success(
            request,
            f"Redacted {clock(redaction.start)}–{clock(redaction.end)}: the public and storytellers' copies read "
            "“[redacted]” there, and search is being updated. The listening copy is being made again with silence "
            f"there; until it is ready, the public is told the recording is being prepared.{original}",
        )
        return redirect(reverse("transcription_admin:redactions", args=[story.pk]))
    redactions = list(story.recording.redactions.select_related("created_by"))
    return TemplateResponse(
        request,
        "transcription/admin/redactions.html",
        {
            "story": story,
            "form": form,
            "redactions": redactions,
            "segments": [
                (segment, form["segments"][position], any(r.covers(segment.start, segment.end) for r in redactions))
                for position, segment in enumerate(segments)
            ],
            "audit": RedactionEvent.objects.filter(media_id=story.recording_id).select_related("user")[:50],
            "duration": clock(duration) if duration else None,
            "remake": _remake_of(story),
        },
    )


@require_POST
def redaction_remake_retry(request, page_id: int):
    """ "Try again": the copies (and the original, where asked) that could not be made after a redaction."""
    story = _editable_story(request, page_id)
    if story.recording is None:
        raise Http404("No recording here.")
    if services.redaction_remake_retry(media=story.recording):
        messages.success(
            request,
            "Queued again: the worker is making the listening copy again with silence over every redacted passage. "
            "Until it is ready, the public is told the recording is being prepared.",
        )
    else:
        messages.info(request, "Nothing to try again: the listening copy is being made or is made already.")
    if request.POST.get("back") == "transcript":
        return redirect(_story_url(story))
    return redirect(reverse("transcription_admin:redactions", args=[story.pk]))


@require_POST
def redaction_undo(request, page_id: int, redaction_id: int):
    story = _editable_story(request, page_id)
    redaction = get_object_or_404(Redaction, pk=redaction_id, media_id=story.recording_id)
    span = f"{clock(redaction.start)}–{clock(redaction.end)}"
    try:
        services.redaction_undo(redaction=redaction, user=request.user, words_only="words_only" in request.POST)
    except services.RedactionUndoRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if redaction.original_too:
            messages.success(request, f"The words of {span} are read again; the passage stays silent.")
        else:
            messages.success(
                request,
                f"Redaction of {span} undone. The listening copy is being made again with the passage heard; until "
                "then the public hears it silent.",
            )
    return redirect(reverse("transcription_admin:redactions", args=[story.pk]))


def _written_texts(story: StoryPage) -> dict[str, str]:
    """The story's paragraphs and quotes by block id, as plain text: what a written redaction's characters count in."""
    return {
        block.id: block_text(block)
        for block in story.body
        if block.block_type in REDACTABLE_BLOCKS and block_text(block).strip()
    }


def story_written_redactions(request, page_id: int):
    """The written text's redactions with their reasons, and the form to redact another passage."""
    story = _editable_story(request, page_id)
    texts = _written_texts(story)
    form = WrittenRedactionForm(request.POST or None, texts=texts)
    if request.method == "POST" and form.is_valid():
        services.written_redaction_create(
            story=story,
            block_id=form.cleaned_data["block"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
        messages.success(request, "Redacted: the public reads “[redacted]” there, and search is being updated.")
        return redirect(reverse("transcription_admin:written-redactions", args=[story.pk]))
    redactions = list(story.written_redactions.select_related("created_by"))
    shown = {block.id: block.value for block in public_body(story, redactions=redactions)}
    return TemplateResponse(
        request,
        "transcription/admin/written_redactions.html",
        {
            "story": story,
            "form": form,
            "redactions": redactions,
            "blocks": [
                (text, _public_text(shown.get(block_id)) if shown.get(block_id) is not None else text)
                for block_id, text in texts.items()
            ],
            "audit": RedactionEvent.objects.filter(story_id=story.pk).select_related("user")[:50],
        },
    )


def _public_text(value) -> str:
    from stories.blocks import paragraph_text

    return value["text"] if hasattr(value, "get") and "text" in value else paragraph_text(value)


@require_POST
def written_redaction_undo(request, page_id: int, redaction_id: int):
    story = _editable_story(request, page_id)
    redaction = get_object_or_404(WrittenRedaction, pk=redaction_id, story_id=story.pk)
    services.written_redaction_undo(redaction=redaction, user=request.user)
    messages.success(request, "Redaction undone: the passage is read again.")
    return redirect(reverse("transcription_admin:written-redactions", args=[story.pk]))
