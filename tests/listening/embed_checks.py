"""The embeddable player follows the visibility rule: a check for the consent property test and the tests here.

assert_embeds_follow_the_rule(client, expected, paths): for every story in the archive, /embed/stories/<id>/ answers
200, framable, with the story's title only when its id is in `expected` (the ids the rule allows now); any other id
answers 404 naming nothing of the story (title, address, recording), and may not be framed by another site.
"""

from html import unescape

from stories.models import StoryPage


def embed_path(story_id: int) -> str:
    return f"/embed/stories/{story_id}/"


def assert_embeds_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    stories = StoryPage.objects.values_list("pk", "title", "recording_id")
    for pk, title, recording_id in stories:
        response = client.get(embed_path(pk))
        text = unescape(response.content.decode())
        if pk in expected:
            assert response.status_code == 200, f"{embed_path(pk)} answers {response.status_code} for a public story"
            assert title in text, f"{embed_path(pk)} does not name its story"
            assert "frame-ancestors *" in response["Content-Security-Policy"]
            continue
        assert response.status_code == 404, f"{embed_path(pk)} answers {response.status_code} for a hidden story"
        assert title not in text, f"{embed_path(pk)} names a story the rule hides"
        if pk in paths:
            assert paths[pk] not in text, f"{embed_path(pk)} holds the address of a story the rule hides"
        if recording_id:
            assert str(recording_id) not in text, f"{embed_path(pk)} holds a hidden story's recording"
        assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", "frame-ancestors 'none'")
