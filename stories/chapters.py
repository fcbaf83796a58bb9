"""A story's chapters as a Podcasting 2.0 JSON chapters file (podcast-namespace docs/jsonChapters.md, version 1.2.0), at
the story's own address followed by chapters.json. StoryPage.serve has applied the visibility rule before the view
runs, and sets its cache headers as for the transcript files."""

import json

from django.http import Http404, HttpResponse
from django.utils.text import slugify

CHAPTERS_FILE = "chapters.json"
CHAPTERS_TYPE = "application/json+chapters"
CHAPTERS_VERSION = "1.2.0"


def chapters_document(story, chapters) -> dict:
    """The JSON chapters document: each chapter's startTime and title, its endTime and url when it has them."""
    items = []
    for chapter in chapters:
        item = {"startTime": chapter.start_seconds, "title": chapter.title}
        if chapter.end_seconds is not None:
            item["endTime"] = chapter.end_seconds
        if chapter.url:
            item["url"] = chapter.url
        items.append(item)
    return {"version": CHAPTERS_VERSION, "title": story.title, "chapters": items}


def story_chapters_file(request, story):
    chapters = list(story.chapters.order_by("start_seconds", "pk")) if story.recording_id else []
    if not chapters:
        raise Http404("This story has no chapters.")
    body = json.dumps(chapters_document(story, chapters), ensure_ascii=False, indent=1)
    response = HttpResponse(body.encode(), content_type=CHAPTERS_TYPE)
    response["Content-Disposition"] = f'inline; filename="{slugify(story.title) or "story"}-chapters.json"'
    return response
