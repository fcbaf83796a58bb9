"""Checks that IIIF manifests follow the visibility rule, for the consent property test and the tests here.

assert_manifests_follow_the_rule(client, expected, paths): for every story in the archive, its manifest answers 200
only if the rule allows the story (its id is in `expected`) and it has a recording, and 404 naming nothing otherwise;
every collection's manifest lists only allowed stories.
"""

import json

from iiif.manifests import collection_manifest_url, story_manifest_url
from stories.models import CollectionPage, StoryPage

CANVAS_PREFIX = "/stories/"


def canvas_story_ids(manifest: dict) -> list[int]:
    """The story ids a manifest's Canvases belong to (each Canvas id is /stories/<id>/canvas/1)."""
    ids = []
    for canvas in manifest["items"]:
        path = canvas["id"].split("://", 1)[-1].split("/", 1)[1]
        assert path.startswith("stories/") and path.endswith("/canvas/1"), canvas["id"]
        ids.append(int(path.split("/")[1]))
    return ids


def labels(manifest: dict) -> set[str]:
    """Every label value anywhere in the manifest."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "label" and isinstance(inner, dict):
                    found.update(text for texts in inner.values() for text in texts)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(manifest)
    return found


def assert_manifests_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """expected: the story ids the rule lets the public see; paths: story id to its manifest path (any story left
    out is read at /stories/<id>/manifest.json)."""
    stories = {story.pk: story for story in StoryPage.objects.all()}
    hidden_titles = {story.title for pk, story in stories.items() if pk not in expected}
    for story_id in set(stories) | set(paths):
        story = stories.get(story_id)
        path = paths.get(story_id) or story_manifest_url(story_id)
        response = client.get(path)
        body = response.content.decode()
        if story_id in expected and story is not None and story.recording_id:
            assert response.status_code == 200, f"story {story_id} is public with a recording: {path} must answer"
            manifest = json.loads(body)
            assert manifest["label"] == {story.language: [story.title]}, path
            assert canvas_story_ids(manifest) == [story_id], path
        else:
            assert response.status_code == 404, f"story {story_id} may not have a manifest, {path} answered"
            if story is not None:
                assert story.title not in body, f"the 404 at {path} names the story"
    for collection in CollectionPage.objects.all():
        path = collection_manifest_url(collection.pk)
        response = client.get(path)
        assert response.status_code in (200, 404), path
        if response.status_code == 404:
            continue
        assert CollectionPage.open_to_public().filter(pk=collection.pk).exists(), f"{path} is not open to the public"
        manifest = json.loads(response.content)
        listed = set(canvas_story_ids(manifest))
        assert listed <= expected, f"{path} lists stories the rule hides: {sorted(listed - expected)}"
        shown = labels(manifest) - {stories[pk].title for pk in listed}
        assert not (shown & hidden_titles), f"{path} names a hidden story: {shown & hidden_titles}"
