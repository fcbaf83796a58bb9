"""Dialogues: /dialogues/ and each dialogue's page (date, place, the questions asked, its public stories), linked from
the story pages and the main navigation, and /api/dialogues; every count and list only what the public may see."""

import datetime
import re
from urllib.parse import urljoin, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from stories.factories import CommunityFactory, DialogueFactory, public_story
from stories.models import Consent, Dialogue, StoryPage, Visibility

PUBLIC = 25  # more than one page of stories (20)


def _story_links(html: str, paths: dict[int, str]) -> list[int]:
    by_path = {path: pk for pk, path in paths.items()}
    return [by_path[href] for href in re.findall(r'<a href="([^"?#]+)"', html) if href in by_path]


def dialogue_page_story_ids(client, dialogue: Dialogue, paths: dict[int, str]) -> tuple[list[int], str]:
    """The story ids a dialogue's page lists over all its pages (following its "Older stories" links), and the text
    of every page."""
    listed, texts, address = [], [], dialogue.get_absolute_url()
    for _ in range(100):
        response = client.get(address)
        assert response.status_code == 200, address
        html = response.content.decode()
        texts.append(html)
        stories_part = html.split('id="stories-title"', 1)[1]
        listed += _story_links(stories_part, paths)
        older = re.search(r'<a href="(\?after=[^"]+)" rel="next"', stories_part)
        if older is None:
            break
        address = urljoin(dialogue.get_absolute_url(), older[1].replace("&amp;", "&"))
    return listed, "\n".join(texts)


def index_counts(client) -> dict[str, int]:
    html = client.get(reverse("stories:dialogues")).content.decode()
    return {slug: int(n) for slug, n in re.findall(r'data-slug="([^"]+)".*?data-story-count="(\d+)"', html, re.S)}


def assert_dialogues_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """Every dialogue's page lists exactly its stories the rule allows (over every page) and names no other story;
    /dialogues/ and /api/dialogues count exactly those; /api/stories/{id} names a dialogue only for a public story.
    expected: the story ids the rule allows; paths: each story's address on the site."""
    api = {item["slug"]: item for item in client.get("/api/dialogues").json()}
    counted = index_counts(client)
    titles = dict(StoryPage.objects.values_list("pk", "title"))
    for dialogue in Dialogue.objects.all():
        own = set(StoryPage.objects.filter(dialogue=dialogue).values_list("pk", flat=True))
        allowed = own & expected
        listed, html = dialogue_page_story_ids(client, dialogue, paths)
        assert sorted(listed) == sorted(allowed), f"{dialogue.get_absolute_url()} lists other stories than the rule"
        for pk in own - allowed:
            assert f">{titles[pk]}<" not in html, f"{dialogue.get_absolute_url()} names hidden story {pk}"
        assert api[dialogue.slug]["public_stories"] == len(allowed), f"/api/dialogues miscounts {dialogue.slug}"
        assert counted[dialogue.slug] == len(allowed), f"/dialogues/ miscounts {dialogue.slug}"
        if len(allowed) > 20:  # the page's own total, shown beside its page links
            assert f"{len(allowed)} stories in all" in html
    for pk in StoryPage.objects.exclude(dialogue=None).values_list("pk", flat=True):
        response = client.get(f"/api/stories/{pk}")
        if pk in expected:
            assert response.json()["dialogue"] is not None, f"public story {pk} lost its dialogue"
        else:
            assert response.status_code == 404 and "dialogue" not in response.json(), f"story {pk} is told of"


def site_paths() -> dict[int, str]:
    return {story.pk: urlparse(story.url).path for story in StoryPage.objects.all()}


def public_ids() -> set[int]:
    return set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))


@pytest.fixture
def gathering():
    """A dialogue with 25 public stories and five hidden ones (one for each way a story is hidden), and another
    dialogue in the same community with one public story of its own."""
    community = CommunityFactory(name="Mill Creek", slug="mill-creek")
    dialogue = DialogueFactory(
        title="Spring gathering at the library",
        community=community,
        date=datetime.date(2026, 4, 18),
        place="Mill Creek Library",
        questions="What did home mean when you were my age?\n\n  Who taught you to cook?  \n",
    )
    other = DialogueFactory(title="Autumn walk", community=community, date=datetime.date(2025, 10, 2))
    for n in range(PUBLIC):
        public_story(title=f"Home {n}", community=community, dialogue=dialogue)
    hidden = [public_story(title=f"Hidden {n}", community=community, dialogue=dialogue) for n in range(5)]
    hidden[0].unpublish()
    for story, name, value in [
        (hidden[1], "visibility", Visibility.PRIVATE),
        (hidden[2], "embargo_until", timezone.localdate() + datetime.timedelta(days=9)),
        (hidden[3], "withdrawn_at", timezone.now()),
    ]:
        setattr(story, name, value)
        story.save()
    for consent in Consent.objects.filter(story=hidden[4]):
        consent.scope = Consent.Scope.RESEARCH
        consent.save()
    public_story(title="Leaves", community=community, dialogue=other)
    public_story(title="No dialogue", community=community)
    return dialogue, other


def test_a_dialogue_lists_and_counts_only_its_public_stories(client, gathering):
    dialogue, other = gathering
    # Control: the hidden stories are in the dialogue, to be listed or counted by mistake.
    assert StoryPage.objects.filter(dialogue=dialogue).count() == PUBLIC + 5
    expected = public_ids()
    assert len(expected & set(dialogue.stories.values_list("pk", flat=True))) == PUBLIC

    assert_dialogues_follow_the_rule(client, expected, site_paths())

    listed, html = dialogue_page_story_ids(client, dialogue, site_paths())
    assert len(listed) == PUBLIC and "Hidden" not in html and "Leaves" not in html
    assert index_counts(client) == {dialogue.slug: PUBLIC, other.slug: 1}


def test_the_check_fails_when_a_hidden_story_is_expected(client, gathering):
    """Control for the check itself: told a hidden story should be listed, it says the page does not list it."""
    dialogue, _other = gathering
    hidden = StoryPage.objects.get(title="Hidden 1")

    with pytest.raises(AssertionError, match="lists other stories"):
        assert_dialogues_follow_the_rule(client, public_ids() | {hidden.pk}, site_paths())


def test_a_story_hidden_after_it_was_listed_leaves_the_dialogue_at_once(client, gathering):
    dialogue, _other = gathering
    story = StoryPage.objects.get(title="Home 3")
    assert client.get("/api/dialogues").json()[0]["public_stories"] == PUBLIC

    story.visibility = Visibility.PRIVATE
    story.save()

    assert client.get("/api/dialogues").json()[0]["public_stories"] == PUBLIC - 1
    listed, html = dialogue_page_story_ids(client, dialogue, site_paths())
    assert story.pk not in listed and ">Home 3<" not in html
    assert_dialogues_follow_the_rule(client, public_ids(), site_paths())


def test_the_dialogue_page_shows_its_date_place_and_questions(client, gathering):
    dialogue, _other = gathering

    html = client.get("/dialogues/spring-gathering-at-the-library/").content.decode()

    assert "<h1>Spring gathering at the library</h1>" in html
    assert "18 April 2026" in html and "Mill Creek Library" in html
    assert re.findall(r"<li>([^<]+\?)</li>", html) == [
        "What did home mean when you were my age?",
        "Who taught you to cook?",
    ]
    assert '<a href="/communities/mill-creek/">Mill Creek</a>' in html
    assert "25 stories in all" in html


def test_api_dialogues_gives_each_dialogue_newest_first(client, gathering):
    answer = client.get("/api/dialogues")

    assert answer.status_code == 200
    first, second = answer.json()
    assert first == {
        "slug": "spring-gathering-at-the-library",
        "title": "Spring gathering at the library",
        "date": "2026-04-18",
        "place": "Mill Creek Library",
        "url": "http://testserver/dialogues/spring-gathering-at-the-library/",
        "community": {"slug": "mill-creek", "name": "Mill Creek"},
        "description": "",
        "questions": ["What did home mean when you were my age?", "Who taught you to cook?"],
        "public_stories": PUBLIC,
    }
    assert (second["slug"], second["public_stories"]) == ("autumn-walk", 1)


def test_a_story_page_links_its_dialogue_and_the_navigation_links_the_index(client, gathering):
    story = StoryPage.objects.get(title="Home 0")

    html = client.get(story.url).content.decode()

    assert 'Told at <a href="/dialogues/spring-gathering-at-the-library/">Spring gathering at the library</a>' in html
    assert '<li><a href="/dialogues/">Dialogues</a></li>' in html
    assert "Told at" not in client.get(StoryPage.objects.get(title="No dialogue").url).content.decode()


def test_a_dialogue_without_public_stories_says_so_and_an_unknown_one_is_not_found(client):
    DialogueFactory(title="Planned", community=CommunityFactory())

    assert "No stories here yet" in client.get("/dialogues/planned/").content.decode()
    assert index_counts(client) == {"planned": 0}
    assert client.get("/dialogues/nowhere/").status_code == 404


def test_dialogue_slugs_are_made_from_the_title_and_never_repeat(client):
    community = CommunityFactory()
    first = DialogueFactory(title="Kitchen table talks", community=community)
    second = DialogueFactory(title="Kitchen Table Talks!", community=community)
    named = DialogueFactory(title="Kitchen table talks", slug="kitchen-2026", community=community)

    assert (first.slug, second.slug, named.slug) == ("kitchen-table-talks", "kitchen-table-talks-2", "kitchen-2026")
    first.title = "Renamed"
    first.save()
    assert Dialogue.objects.get(pk=first.pk).slug == "kitchen-table-talks"  # its address stays
