"""Clips (?t=start,end), "Share this moment" and the embeddable player, as the server answers them."""

import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError

from stories.factories import CollectionEntryFactory, CollectionPageFactory, PersonFactory, public_story
from stories.models import StoryPage, StoryParticipant, Visibility
from stories.timecodes import Clip, clip_from
from tests.listening.embed_checks import assert_embeds_follow_the_rule, embed_path

from .conftest import story_with_transcript

pytestmark = pytest.mark.django_db

# Two lines of a recording that lasts longer than any clip here (tests/listening/conftest.py).
LINES = [(0.0, 4.2, "My grandmother kept a vegetable garden."), (15.6, 20.0, "She said the soil remembers.")]


def told_by_rosa_and_ana():
    story, _ = story_with_transcript(
        LINES,
        title="Grandmother's garden",
        people=[PersonFactory(display_name="Rosa", birth_year=1948), PersonFactory(display_name="Ana")],
        community__name="Riverside",
        recorded_on="2025-05-03",
    )
    return StoryPage.objects.get(pk=story.pk)


def hide(story: StoryPage) -> None:
    story.visibility = Visibility.PRIVATE
    story.save_revision().publish()


# Reading a clip -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clip"),
    [
        ("135", Clip(135)),
        ("02:15", Clip(135)),
        ("135,170", Clip(135, 170)),
        ("02:15,02:50", Clip(135, 170)),
        ("1:00:00,1:00:30", Clip(3600, 3630)),
        (" 135 , 170 ", Clip(135, 170)),
    ],
)
def test_a_t_value_names_a_moment_or_a_stretch(raw, clip):
    assert clip_from(raw, duration=4000) == clip


def test_a_clip_that_runs_past_the_recording_ends_with_it():
    assert clip_from("50,999", duration=60.4) == Clip(50, 61)


@pytest.mark.parametrize(
    ("raw", "start", "says"),
    [
        ("170,135", 170, "is not after its start"),
        ("135,135", 135, "is not after its start"),
        ("135,soon", 135, "could not be read"),
        ("abc", 0, "could not be read"),
        ("-5", 0, "could not be read"),
        ("1e999", 0, "could not be read"),
        ("1:2:3:4", 0, "could not be read"),
        ("9" * 40, 0, "could not be read"),
        ("9999", 0, "after the recording ends"),
    ],
)
def test_a_t_value_that_cannot_be_used_is_explained_and_the_story_still_plays(raw, start, says):
    clip = clip_from(raw, duration=600)

    assert clip.start == start and clip.end is None
    assert says in clip.problem


# The story page -------------------------------------------------------------------------------------------------


def test_a_clip_link_says_which_stretch_plays_and_offers_the_whole_story(client):
    story = told_by_rosa_and_ana()

    html = client.get(f"{story.url}?t=15,40").content.decode()

    assert "Playing 00:15\N{EN DASH}00:40 of this story." in html
    assert "Play the whole story" in html
    assert 'data-start="15" data-end="40"' in html
    assert f"/recordings/{story.recording_id}/access#t=15,40" in html  # a browser without the script stops too


@pytest.mark.parametrize("raw", ["40,15", "abc", "99999", "1,", ",5", "½", "1,2,3", "٣"])
def test_bad_clip_values_are_a_message_never_a_server_error(client, raw):
    story = told_by_rosa_and_ana()

    response = client.get(story.url, {"t": raw})

    assert response.status_code == 200
    html = response.content.decode()
    assert "data-clip-problem" in html or "Listening from" in html  # what plays instead, said on the page
    assert "data-clip-notice" not in html


def test_a_reversed_clip_is_explained_on_the_page(client):
    story = told_by_rosa_and_ana()

    html = client.get(story.url, {"t": "40,15"}).content.decode()

    assert "is not after its start" in html
    assert "so the story plays on from 00:40" in html
    assert "data-clip-notice" not in html


def share_fields(html: str) -> dict[str, str]:
    link = re.search(r'id="share-link"[^>]*value="([^"]*)"', html).group(1)
    citation = re.search(r'id="share-citation"[^>]*>([^<]*)</textarea>', html).group(1)
    embed = re.search(r'id="share-embed"[^>]*>([^<]*)</textarea>', html).group(1)
    return {"link": unescape(link), "citation": unescape(citation), "embed": unescape(embed)}


def test_share_this_moment_offers_the_clip_link_a_citation_and_the_embed_code(client):
    story = told_by_rosa_and_ana()

    fields = share_fields(client.get(f"{story.url}?t=15,40").content.decode())

    address = f"http://localhost{story.url}?t=15,40"
    assert fields["link"] == address
    assert fields["citation"] == (
        f"Rosa and Ana. “Grandmother's garden.” Recorded in Riverside, 3 May 2025. Story Archive, 00:15–00:40. {address}."
    )
    assert f'src="http://localhost/embed/stories/{story.pk}/?t=15,40"' in fields["embed"]
    assert (
        fields["embed"].startswith("<iframe ")
        and 'title="Grandmother&#x27;s garden (Story Archive)"' in fields["embed"]
    )


def test_the_citation_names_storytellers_not_listeners(client):
    story = told_by_rosa_and_ana()
    StoryParticipant.objects.filter(page=story, person__display_name="Ana").update(role="listener")

    fields = share_fields(client.get(story.url).content.decode())

    assert fields["citation"].startswith("Rosa. “Grandmother's garden.”")
    assert fields["link"] == f"http://localhost{story.url}"


# The embeddable player ------------------------------------------------------------------------------------------


def test_the_embed_carries_the_player_transcript_and_captions_and_may_be_framed(client):
    story = told_by_rosa_and_ana()

    response = client.get(f"{embed_path(story.pk)}?t=15,40")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="player"' in html and f'<track kind="captions" src="{story.url}transcript.vtt"' in html
    assert "She said the soil remembers." in html and "Playing 00:15\N{EN DASH}00:40 of this story." in html
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]  # only framing is relaxed
    assert '<meta name="robots" content="noindex">' in html
    assert f'<link rel="canonical" href="http://localhost{story.url}">' in html


def test_negative_the_story_page_itself_may_not_be_framed(client):
    story = told_by_rosa_and_ana()

    response = client.get(story.url)

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_negative_a_hidden_story_has_no_embed_and_its_404_names_nothing(client):
    story = told_by_rosa_and_ana()
    shown = public_story(title="Still public")

    assert_embeds_follow_the_rule(client, {story.pk, shown.pk}, {story.pk: story.url})  # control: both shown
    hide(story)

    response = client.get(embed_path(story.pk))
    assert response.status_code == 404
    assert "Grandmother" not in response.content.decode() and "Riverside" not in response.content.decode()
    assert_embeds_follow_the_rule(client, {shown.pk}, {story.pk: story.url})
    assert client.get(embed_path(shown.pk + story.pk + 1000)).status_code == 404


def test_control_the_embed_check_fails_when_a_hidden_story_is_embedded(client):
    story = told_by_rosa_and_ana()

    with pytest.raises(AssertionError, match="names a story the rule hides|answers 200"):
        assert_embeds_follow_the_rule(client, set(), {story.pk: story.url})


# Collections ----------------------------------------------------------------------------------------------------


def test_a_collection_entry_can_be_a_clip_with_an_end(client):
    story = told_by_rosa_and_ana()
    collection = CollectionPageFactory(title="Gardens")
    CollectionEntryFactory(page=collection, story=story, start_seconds=15, end_seconds=40)

    html = client.get(collection.url).content.decode()

    assert "Listen to 00:15\N{EN DASH}00:40" in html
    assert f'href="{story.url}?t=15,40"' in html
    assert 'data-start="15" data-end="40"' in html


def test_a_collection_entry_ending_before_it_starts_is_refused_with_a_reason():
    story = told_by_rosa_and_ana()
    entry = CollectionEntryFactory.build(page=CollectionPageFactory(), story=story, start_seconds=140, end_seconds=135)

    with pytest.raises(ValidationError, match="The end must come after the start"):
        entry.full_clean()
