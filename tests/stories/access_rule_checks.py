"""The requests-for-access paths checked against the visibility rule, for the consent property test and the access
tests alike. No tests of its own."""

import re

from django.urls import reverse

from stories.models import Consent, StoryPage
from tests.hidden_answers import shows_nothing
from tests.responses import body_text
from transcription.models import Segment


def request_page_allows(story_id: int) -> tuple[bool, bool]:
    """(whether a request page may exist, whether it may name the title), read from the models, not the views."""
    story = StoryPage.objects.get(pk=story_id)
    consents = {c.person_id: c for c in Consent.objects.filter(story=story, withdrawn_at__isnull=True)}
    people = list(story.participants.values_list("person_id", flat=True))
    on_request = StoryPage.objects.available_on_request().filter(pk=story_id).exists()
    agreed = bool(people) and all(consents.get(p) and consents[p].on_request_details_listed for p in people)
    return on_request, on_request and agreed


def spoken_words(story: StoryPage) -> list[str]:
    """Every line of every transcript of the story's recording."""
    if not story.recording_id:
        return []
    return list(Segment.objects.filter(transcript__media_id=story.recording_id).values_list("text", flat=True))


def assert_on_request_follows_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """A story the rule allows has no request page. For every story it hides, its own address shows nothing; its
    request page exists only while it is on request, and names its title only when every storyteller agreed; search
    never links its page, and links its request page only as "available on request" when its storytellers agreed.
    Neither ever shows a word of its transcript."""
    hidden_paths = {paths[other] for other in paths if other not in expected}
    for pk, path in paths.items():
        story = StoryPage.objects.get(pk=pk)
        requested = client.get(reverse("stories:access-request", args=[pk]))
        # The page thanking for a request exists exactly when the request page does, and names no title.
        sent = client.get(reverse("stories:access-request-sent", args=[pk]))
        assert sent.status_code == requested.status_code, f"story {pk}'s thank-you page"
        assert story.title not in body_text(sent)
        if pk in expected:
            assert requested.status_code == 404, "a public story has a request page"
            continue
        own = client.get(path)
        assert shows_nothing(own) and story.title not in body_text(own), path
        may_exist, may_name = request_page_allows(pk)
        page = body_text(requested)
        words = spoken_words(story)
        assert not any(line in page for line in words), f"the request page of story {pk} shows its transcript"
        assert requested["Cache-Control"] == "private, no-store"
        if not may_exist:
            assert requested.status_code == 404 and story.title not in page, f"story {pk} has a request page"
            continue
        assert requested.status_code == 200
        assert (story.title in page) == may_name, f"the request page of story {pk} names its title: {may_name}"
        if not may_name and story.summary:
            assert story.summary not in page
        searched = body_text(client.get("/search/", {"q": story.title}))
        linked = set(re.findall(r'href="([^"?#]+)', searched))
        assert not linked & hidden_paths, "search links a hidden story's page"
        request_link = reverse("stories:access-request", args=[pk])
        assert (request_link in linked) == may_name, f"search lists story {pk} as available on request: {may_name}"
        if may_name:
            section = searched.split('id="on-request-heading"', 1)[1]
            assert story.title in section and "available on request" in section
            assert not any(line in section for line in words), f"search shows story {pk}'s transcript on request"
