"""Transcript files at a story's own URL. StoryPage.serve has applied the visibility rule before these run."""

from django.http import Http404, HttpResponse
from django.utils.text import slugify

from . import captions
from .selectors import current_transcript, public_segments, speaker_names


def _segments(story):
    transcript = current_transcript(media_id=story.recording_id)
    if transcript is None:
        raise Http404("This story has no transcript yet.")
    return public_segments([transcript])


def _file(body: str, content_type: str, story, extension: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{slugify(story.title) or "story"}.{extension}"'
    return response


def transcript_webvtt(request, story):
    return _file(captions.webvtt(_segments(story), speakers=speaker_names(story)), "text/vtt", story, "vtt")


def transcript_srt(request, story):
    return _file(captions.srt(_segments(story), speakers=speaker_names(story)), "application/x-subrip", story, "srt")


def transcript_text(request, story):
    text = captions.plain_text(_segments(story), title=story.title, speakers=speaker_names(story))
    return _file(text, "text/plain", story, "txt")
