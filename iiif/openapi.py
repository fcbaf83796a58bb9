"""The manifests in the JSON API's OpenAPI schema: served at their own addresses, outside /api/, and listed there so
a client reading /api/openapi.json finds them."""

from stories.api import MAX_STORY_ID

from .manifests import CONTENT_TYPE

_MANIFEST = {
    "type": "object",
    "description": "A IIIF Presentation 3 Manifest (https://iiif.io/api/presentation/3.0/#52-manifest).",
    "required": ["@context", "id", "type", "label", "items"],
    "properties": {
        "@context": {"type": "string", "const": "http://iiif.io/api/presentation/3/context.json"},
        "id": {"type": "string", "format": "uri"},
        "type": {"type": "string", "const": "Manifest"},
        "label": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "items": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
}
_DETAIL = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}


def _operation(*, name: str, summary: str, description: str) -> dict:
    return {
        "get": {
            "operationId": name,
            "summary": summary,
            "description": description,
            "tags": ["iiif"],
            "parameters": [
                {
                    "in": "path",
                    "name": "id",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_STORY_ID},
                }
            ],
            "responses": {
                "200": {"description": "The manifest.", "content": {CONTENT_TYPE: {"schema": _MANIFEST}}},
                "400": {
                    "description": "A character no database can store in the address.",
                    "content": {"application/json": {"schema": _DETAIL}},
                },
                "404": {
                    "description": "No such story, or none the public may see with a recording.",
                    "content": {"application/json": {"schema": _DETAIL}},
                },
            },
        }
    }


def manifest_paths() -> dict:
    """OpenAPI path items for /stories/{id}/manifest.json and /collections/{id}/manifest.json."""
    return {
        "/stories/{id}/manifest.json": _operation(
            name="iiif_story_manifest",
            summary="A public story's IIIF Presentation 3 manifest",
            description="One Canvas with the recording's public access copy, its poster and WebVTT captions.",
        ),
        "/collections/{id}/manifest.json": _operation(
            name="iiif_collection_manifest",
            summary="A collection's IIIF Presentation 3 manifest",
            description="One Canvas and one Range per public story with a recording, from the curator's start time.",
        ),
    }
