"""IIIF Presentation 3 manifests (https://iiif.io/api/presentation/3.0/), built from public stories only.

A story's manifest has one Canvas as long as its recording, painted with the public access copy (never the original),
its poster as thumbnail and its WebVTT captions as a supplementing annotation. A collection's manifest has one Canvas
per public story, in the curator's order, and one Range per story that starts where the curator chose: a IIIF
Collection could only point at the stories' manifests, with no place for a start time.
"""

from django.urls import reverse

from stories.models import CollectionPage, StoryPage
from transcription.selectors import current_transcript

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
CONTENT_TYPE = f'application/ld+json;profile="{CONTEXT}"'
# The storytellers keep the rights to their words; their consent lets the archive share them, not others reuse them.
RIGHTS = "http://rightsstatements.org/vocab/InC-EDU/1.0/"
REQUIRED_STATEMENT = (
    "Shared by the storytellers with their consent for the public archive. They keep the rights to their stories: "
    "ask the archive before using one beyond education and research."
)


def _text(value: str, language: str = "none") -> dict:
    return {language: [value]}


def _pair(label: str, values: list[str]) -> dict:
    return {"label": _text(label, "en"), "value": {"none": values}}


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


def story_manifest_url(story_id: int) -> str:
    return reverse("iiif:story-manifest", args=[story_id])


def collection_manifest_url(collection_id: int) -> str:
    return reverse("iiif:collection-manifest", args=[collection_id])


def _metadata(story: StoryPage) -> list[dict]:
    pairs = []
    if story.community_id:
        pairs.append(_pair("Community", [story.community.name]))
    themes = [theme.name for theme in story.themes.all()]
    if themes:
        pairs.append(_pair("Themes", themes))
    generations = [generation.label for generation in story.generations]
    if generations:
        pairs.append(_pair("Generations", generations))
    if story.recorded_on:
        pairs.append(_pair("Recorded", [story.recorded_on.isoformat()]))
    pairs.append(_pair("Language", [story.language_label]))
    notes = [note.name for note in story.content_notes.all()]
    if notes:
        pairs.append(_pair("Content notes", notes))
    return pairs


def _canvas(request, story: StoryPage) -> dict:
    """The story's recording as a Canvas: the access copy painted on it for its whole duration, captions beside."""
    media = story.recording
    canvas_id = _absolute(request, f"/stories/{story.pk}/canvas/1")
    access_url = _absolute(request, reverse("stories:recording", args=[media.pk, "access"]))
    body = {
        "id": access_url,
        "type": "Video" if media.has_video else "Sound",
        "format": media.access_content_type or media.content_type or "application/octet-stream",
    }
    canvas = {"id": canvas_id, "type": "Canvas", "label": _text(story.title, story.language)}
    if media.duration_seconds:
        body["duration"] = canvas["duration"] = media.duration_seconds
    if media.has_video and media.width and media.height:
        body["width"] = canvas["width"] = media.width
        body["height"] = canvas["height"] = media.height
    if media.has_video and media.poster:
        canvas["thumbnail"] = [_poster(request, story)]
    canvas["items"] = [
        {
            "id": f"{canvas_id}/page/1",
            "type": "AnnotationPage",
            "items": [
                {
                    "id": f"{canvas_id}/page/1/access",
                    "type": "Annotation",
                    "motivation": "painting",
                    "body": body,
                    "target": canvas_id,
                }
            ],
        }
    ]
    transcript = current_transcript(media_id=media.pk)
    if transcript is not None:
        language = transcript.language or story.language
        canvas["annotations"] = [
            {
                "id": f"{canvas_id}/captions",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{canvas_id}/captions/1",
                        "type": "Annotation",
                        "motivation": "supplementing",
                        "body": {
                            "id": _absolute(request, f"{story.url}transcript.vtt"),
                            "type": "Text",
                            "format": "text/vtt",
                            "language": language,
                            "label": _text(
                                "Captions (automatic)"
                                if transcript.machine_generated and not transcript.reviewed
                                else "Captions",
                                "en",
                            ),
                        },
                        "target": canvas_id,
                    }
                ],
            }
        ]
    return canvas


def _poster(request, story: StoryPage) -> dict:
    return {
        "id": _absolute(request, reverse("stories:recording", args=[story.recording_id, "poster"])),
        "type": "Image",
        "format": "image/jpeg",
    }


def _common(request, *, manifest_id: str, title: str, language: str) -> dict:
    return {
        "@context": CONTEXT,
        "id": manifest_id,
        "type": "Manifest",
        "label": _text(title, language),
        "rights": RIGHTS,
        "requiredStatement": {"label": _text("Rights", "en"), "value": _text(REQUIRED_STATEMENT, "en")},
        "provider": [
            {
                "id": _absolute(request, "/"),
                "type": "Agent",
                "label": _text("Story Archive", "en"),
                "homepage": [
                    {
                        "id": _absolute(request, "/"),
                        "type": "Text",
                        "label": _text("Story Archive", "en"),
                        "format": "text/html",
                    }
                ],
            }
        ],
    }


def story_manifest(request, story: StoryPage) -> dict:
    """The Manifest of one public story with a recording. The caller has applied the visibility rule."""
    manifest = _common(
        request,
        manifest_id=_absolute(request, story_manifest_url(story.pk)),
        title=story.title,
        language=story.language,
    )
    if story.summary:
        manifest["summary"] = _text(story.summary, story.language)
    manifest["metadata"] = _metadata(story)
    manifest["homepage"] = [
        {
            "id": _absolute(request, story.url),
            "type": "Text",
            "label": _text(story.title, story.language),
            "format": "text/html",
            "language": [story.language],
        }
    ]
    if story.recording.has_video and story.recording.poster:
        manifest["thumbnail"] = [_poster(request, story)]
    manifest["items"] = [_canvas(request, story)]
    return manifest


def collection_manifest(request, collection: CollectionPage, entries) -> dict:
    """A collection's public stories with recordings as one Manifest: a Canvas and a Range each, in the curator's
    order, each Range starting at the curator's moment. `entries` are collection.public_entries() with recordings."""
    manifest_id = _absolute(request, collection_manifest_url(collection.pk))
    manifest = _common(request, manifest_id=manifest_id, title=collection.title, language="en")
    if collection.curator:
        manifest["metadata"] = [_pair("Curator", [collection.curator])]
    manifest["homepage"] = [
        {
            "id": _absolute(request, collection.url),
            "type": "Text",
            "label": _text(collection.title, "en"),
            "format": "text/html",
        }
    ]
    manifest["behavior"] = ["auto-advance"]
    canvases, ranges = [], []
    for number, entry in enumerate(entries, start=1):
        story = entry.story
        canvas = _canvas(request, story)
        canvases.append(canvas)
        story_range = {
            "id": f"{manifest_id}/range/{number}",
            "type": "Range",
            "label": _text(story.title, story.language),
            "items": [{"id": canvas["id"], "type": "Canvas"}],
        }
        if entry.note:
            story_range["summary"] = _text(entry.note, "en")
        if entry.start_seconds:
            story_range["start"] = {
                "id": f"{manifest_id}/range/{number}/start",
                "type": "SpecificResource",
                "source": canvas["id"],
                "selector": {"type": "PointSelector", "t": float(entry.start_seconds)},
            }
        ranges.append(story_range)
    manifest["items"] = canvases
    if ranges:
        manifest["structures"] = ranges
    return manifest
