"""IIIF Presentation 3: every public story with a recording, and every open collection, has a manifest that
iiif-prezi3 loads and the Presentation 3 JSON schema accepts; nothing hidden has one, or is named in one."""

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
from iiif_prezi3 import Manifest

from iiif import views as iiif_views
from iiif.manifests import CONTENT_TYPE
from stories.factories import CollectionEntryFactory, ConsentFactory, public_story
from stories.models import Consent, StoryPage, Visibility

from .iiif_checks import assert_manifests_follow_the_rule

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "iiif" / "iiif_3_0.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def manifest_of(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["Access-Control-Allow-Origin"] == "*"
    manifest = json.loads(response.content)
    problems = [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(manifest)]
    assert problems == [], problems
    Manifest(**manifest)  # raises on anything the IIIF models refuse
    return manifest


def story_path(story) -> str:
    return f"/stories/{story.pk}/manifest.json"


def painting(canvas: dict) -> dict:
    [page] = canvas["items"]
    [annotation] = page["items"]
    assert annotation["motivation"] == "painting" and annotation["target"] == canvas["id"]
    return annotation["body"]


def test_an_audio_story_plays_its_access_copy_with_captions_and_metadata(client, told_aloud):
    manifest = manifest_of(client, story_path(told_aloud))
    media = told_aloud.recording

    assert manifest["label"] == {"en": ["The garden behind the house"]}
    [canvas] = manifest["items"]
    assert canvas["duration"] == pytest.approx(media.duration_seconds) and "width" not in canvas
    sound = painting(canvas)
    assert sound["type"] == "Sound" and sound["format"] == "audio/mp4" == media.access_content_type
    heard = client.get(sound["id"])
    assert heard.status_code == 200 and heard["Content-Type"] == "audio/mp4", "the painted URL serves the access copy"
    assert f"/recordings/{media.pk}/access" in sound["id"] and "original" not in json.dumps(manifest)

    [captions_page] = canvas["annotations"]
    [captions] = captions_page["items"]
    assert captions["motivation"] == "supplementing"
    assert captions["body"]["format"] == "text/vtt" and captions["body"]["label"] == {"en": ["Captions"]}
    vtt = client.get(captions["body"]["id"])
    assert vtt.status_code == 200 and vtt.content.startswith(b"WEBVTT")
    assert b"vegetable garden" in vtt.content

    pairs = {pair["label"]["en"][0]: pair["value"]["none"] for pair in manifest["metadata"]}
    assert pairs == {
        "Community": [told_aloud.community.name],
        "Themes": ["Belonging and civic muscle", "Thriving natural world"],
        "Generations": ["Baby Boomers", "Gen Z"],
        "Recorded": ["2026-05-01"],
        "Language": ["English"],
    }
    assert manifest["rights"].startswith("http://rightsstatements.org/")
    assert manifest["requiredStatement"]["value"]["en"][0]
    assert "thumbnail" not in manifest, "an audio recording has no poster"


def test_a_video_story_has_its_size_and_poster(client, on_video):
    manifest = manifest_of(client, story_path(on_video))
    media = on_video.recording

    [canvas] = manifest["items"]
    video = painting(canvas)
    assert video["type"] == "Video" and video["format"] == media.access_content_type
    assert (canvas["width"], canvas["height"]) == (media.width, media.height) == (176, 144)
    assert canvas["duration"] == pytest.approx(media.duration_seconds)
    [poster] = manifest["thumbnail"]
    shown = client.get(poster["id"])
    assert shown.status_code == 200 and b"".join(shown.streaming_content)[:2] == b"\xff\xd8", "a JPEG poster"
    assert "annotations" not in canvas, "no transcript yet, so no captions"


def test_a_collection_plays_its_public_stories_in_order_from_the_curators_moment(
    client, playlist, told_aloud, on_video
):
    hidden = public_story(title="Kept from the public", recording=told_aloud.recording, visibility=Visibility.PRIVATE)
    CollectionEntryFactory(page=playlist, story=hidden, sort_order=2)

    manifest = manifest_of(client, f"/collections/{playlist.pk}/manifest.json")

    assert manifest["label"] == {"en": ["Growing up"]}
    assert [painting(canvas)["type"] for canvas in manifest["items"]] == ["Sound", "Video"]
    first, second = manifest["structures"]
    assert first["label"] == {"en": [told_aloud.title]} and first["items"] == [
        {"id": manifest["items"][0]["id"], "type": "Canvas"}
    ]
    assert first["start"]["selector"] == {"type": "PointSelector", "t": 2.0}
    assert first["summary"] == {"en": ["Listen for the tomatoes."]}
    assert "start" not in second
    assert "Kept from the public" not in json.dumps(manifest)


def test_manifests_answer_only_for_the_public(client, told_aloud, on_video, playlist):
    """Withdrawn consent, a private story, an embargo, a draft and a written story: 404 naming nothing."""
    consent_withdrawn = public_story(title="Consent taken back", recording=told_aloud.recording)
    Consent.objects.filter(story=consent_withdrawn).update(
        withdrawn_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    )
    private = public_story(title="A family matter", recording=told_aloud.recording, visibility=Visibility.PRIVATE)
    embargoed = public_story(
        title="Not yet",
        recording=told_aloud.recording,
        embargo_until=datetime.date.today() + datetime.timedelta(days=30),
    )
    draft = public_story(title="Still a draft", recording=told_aloud.recording, live=False)
    written = public_story(title="Written down")
    unconsented = public_story(title="Nobody asked", recording=told_aloud.recording, people=[])
    ConsentFactory(story=unconsented, scope=Consent.Scope.RESEARCH)
    expected = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    assert expected == {told_aloud.pk, on_video.pk, written.pk}

    for story in (consent_withdrawn, private, embargoed, draft, written):
        response = client.get(story_path(story))
        assert response.status_code == 404 and story.title.encode() not in response.content
        assert response["Cache-Control"] == "no-store"
    assert client.get("/stories/999999/manifest.json").status_code == 404

    assert_manifests_follow_the_rule(client, expected, {})


def test_the_rule_check_catches_a_manifest_served_without_the_rule(client, told_aloud, monkeypatch):
    """Control: the property check fails when a hidden story's manifest is served."""
    hidden = public_story(title="A family matter", recording=told_aloud.recording, visibility=Visibility.PRIVATE)
    expected = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    assert_manifests_follow_the_rule(client, expected, {})

    class EveryStory:
        @staticmethod
        def visible_to_public():
            return StoryPage.objects.live()

    monkeypatch.setattr(iiif_views, "StoryPage", type("Leaky", (), {"objects": EveryStory}))
    assert client.get(story_path(hidden)).status_code == 200, "control: the leak is real"
    with pytest.raises(AssertionError, match=f"story {hidden.pk} may not have a manifest"):
        assert_manifests_follow_the_rule(client, expected, {})


def test_the_rule_check_catches_a_collection_listing_a_hidden_story(client, told_aloud, playlist, monkeypatch):
    """Control: the check fails when a collection's manifest lists a story the rule hides."""
    hidden = public_story(title="A family matter", recording=told_aloud.recording, visibility=Visibility.PRIVATE)
    CollectionEntryFactory(page=playlist, story=hidden, sort_order=5)
    expected = set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))
    assert_manifests_follow_the_rule(client, expected, {})

    monkeypatch.setattr(type(playlist), "public_entries", lambda self: list(self.entries.select_related("story")))
    with pytest.raises(AssertionError, match="lists stories the rule hides"):
        assert_manifests_follow_the_rule(client, expected, {})


def test_a_story_hidden_after_a_visit_loses_its_manifest_at_once(client, told_aloud):
    path = story_path(told_aloud)
    first = client.get(path)
    assert first.status_code == 200 and first["Cache-Control"] == "no-cache" and first["ETag"]
    assert client.get(path, headers={"If-None-Match": first["ETag"]}).status_code == 304

    StoryPage.objects.filter(pk=told_aloud.pk).update(visibility=Visibility.PRIVATE)

    again = client.get(path, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 404 and told_aloud.title.encode() not in again.content


def test_the_story_page_links_its_manifest(client, told_aloud):
    page = client.get(told_aloud.url).content.decode()
    assert f'<link rel="alternate" type="application/ld+json" href="/stories/{told_aloud.pk}/manifest.json"' in page


def test_the_schema_and_the_models_refuse_a_broken_manifest(client, told_aloud):
    """Control: the validators used above do reject a manifest that breaks Presentation 3."""
    manifest = json.loads(client.get(story_path(told_aloud)).content)
    manifest["items"][0]["duration"] = "three minutes"
    del manifest["label"]

    assert list(VALIDATOR.iter_errors(manifest)), "the JSON schema accepts it"
    with pytest.raises(ValueError):
        Manifest(**manifest)
