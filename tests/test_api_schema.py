"""The JSON API keeps its OpenAPI schema: schemathesis sends generated requests to every GET operation, in-process.

Every answer must be documented (status code, content type, body shape) and none may be a server error, whatever
the parameters hold: out-of-range numbers, NUL bytes, unknown slugs, odd dates.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wagtail.rich_text import RichText

from stories.factories import ChapterFactory, CommunityFactory, DialogueFactory, PersonFactory, public_story, theme
from storyarchive.wsgi import application
from transcription.models import Segment, Transcript

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection across the app's requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def small_archive():
    """A few public stories, one with a recording, its chapters and a transcript told at a dialogue, one written, and
    one hidden, so every shape is returned."""
    from stories.models import StoryMedia

    riverside = CommunityFactory(name="Riverside", slug="riverside")
    elder = PersonFactory(display_name="Rosa M.", birth_year=1948)
    youth = PersonFactory(display_name="Jay T.", birth_year=2011)
    recording = StoryMedia.objects.create(
        file="recordings/garden.ogg", size=10, sha256="0" * 64, container="ogg", audio_codec="opus", duration_seconds=9
    )
    told = public_story(
        title="The garden", community=riverside, people=[elder, youth], themes=[theme("thriving-natural-world")]
    )
    told.recording = recording
    told.dialogue = DialogueFactory(title="Garden club", community=riverside, questions="What grew?\nWho watered it?")
    told.save()
    ChapterFactory(story=told, start_seconds=0, title="Planting")
    ChapterFactory(story=told, start_seconds=4, end_seconds=8, title="Watering", url="https://example.org/water")
    transcript = Transcript.objects.create(
        media=recording, model_name="tiny.en", status=Transcript.Status.DONE, is_current=True, language="en"
    )
    Segment.objects.create(transcript=transcript, index=0, start=0.0, end=4.0, text="We planted the garden together.")
    Segment.objects.create(transcript=transcript, index=1, start=4.0, end=6.0, text="Every spring.", speaker=elder)
    public_story(title="The bus to school", community=riverside, themes=[theme("reliable-transportation")])
    written = public_story(title="Housing on Elm Street", themes=[theme("humane-housing")], language="es")
    written.body = [
        ("paragraph", RichText("<p>Vivíamos en la calle Elm.</p>")),
        ("quote", {"text": "La casa era pequeña.", "attribution": ""}),
    ]
    written.save()
    public_story(title="Kept back", live=False)


# Read from the app itself, as a client would; the schema needs no database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


def test_each_segment_names_its_speaker_in_the_schema():
    """/api/stories/{id} documents each segment's speaker: a display name, or null when nobody is named."""
    segment = schema.raw_schema["components"]["schemas"]["SegmentOut"]
    assert "speaker" in segment["required"]
    assert segment["properties"]["speaker"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


@schema.include(method="GET").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_get_operation_answers_as_its_schema_says(case, in_process_requests, small_archive):
    # The in-process client does not decompress, and the app gzips JSON for any client that accepts it.
    case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})


def test_the_schema_documents_a_storys_chapters_and_its_chapters_file(client, db):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    chapter = schemas["ChapterOut"]
    assert set(chapter["properties"]) == {"start", "end", "title", "url"}
    assert set(chapter["required"]) == {"start", "end", "title", "url"}
    for story in ("StoryOut", "StoryDetailOut"):
        properties = schemas[story]["properties"]
        assert properties["chapters"]["items"] == {"$ref": "#/components/schemas/ChapterOut"}, story
        assert "chapters.json" in properties["chapters_url"]["description"], story
