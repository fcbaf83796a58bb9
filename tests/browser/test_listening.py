"""Listening in real Chromium: the player, the transcript that follows it, deep links and search moments."""

import pytest

from search.services import search_index_rebuild

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def player_time(page) -> float:
    return page.eval_on_selector("#player", "player => player.currentTime")


@pytest.mark.parametrize("width", [1280, 375])
def test_the_players_controls_can_be_seen_and_reached(browser_page, garden_story, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(garden_story.url)

    box = page.locator("#player").bounding_box()

    assert box is not None and box["height"] >= 30, box  # an audio element styled height: auto collapses to 0
    assert box["width"] <= width


def test_playing_moves_the_highlight_through_the_transcript(browser_page, garden_story):
    page = browser_page
    page.goto(garden_story.url)
    current = "() => (document.querySelector('.transcript__lines li.is-current') || {}).textContent || ''"

    page.eval_on_selector("#player", "player => player.play()")

    page.wait_for_function(f"() => ({current})().includes('vegetable garden')")
    page.wait_for_function(f"() => ({current})().includes('behind the house')")
    page.wait_for_function(f"() => ({current})().includes('tomatoes')")
    assert page.locator(".transcript__lines li.is-current").count() == 1
    assert page.locator(".transcript__lines li.is-current").get_attribute("aria-current") == "true"


def test_clicking_a_line_or_pressing_enter_on_it_seeks_there(browser_page, garden_story):
    page = browser_page
    page.goto(garden_story.url)
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")

    page.get_by_text("we picked tomatoes together").click()
    page.wait_for_function("() => document.querySelector('#player').currentTime >= 3.6")
    assert page.url.endswith(garden_story.url)  # the page stayed; only the player moved

    page.eval_on_selector("#player", "player => { player.pause(); player.currentTime = 0; }")
    page.locator('.transcript__lines a[href="?t=1"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => { const t = document.querySelector('#player').currentTime; return t >= 1.8 && t < 3.6 + 2; }"
    )
    assert page.locator(".transcript__lines li.is-current").text_content().endswith("behind the house and every summer")


def test_a_t_link_starts_playback_at_that_second(browser_page, garden_story):
    page = browser_page
    page.goto(f"{garden_story.url}?t=3")

    page.wait_for_function("() => { const p = document.querySelector('#player'); return p.played.length > 0; }")
    first_played = page.eval_on_selector("#player", "player => player.played.start(0)")
    assert first_played >= 2.9  # playback began at the moment, not from the start
    assert player_time(page) >= 3


def test_copy_link_to_this_moment_gives_a_t_link(browser_page, garden_story):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(garden_story.url)
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    page.eval_on_selector("#player", "player => { player.currentTime = 4.4; }")
    page.wait_for_function("() => document.querySelector('#player').currentTime >= 4.4")

    page.get_by_role("button", name="Copy link to this moment").click()

    status = page.locator("[data-moment-status]")
    status.filter(has_text="?t=4").wait_for()
    assert status.get_attribute("data-link").endswith(f"{garden_story.url}?t=4")


def test_finding_in_the_transcript_marks_matches_and_walks_through_them(browser_page, garden_story):
    page = browser_page
    page.goto(garden_story.url)

    page.get_by_label("Find in the transcript").fill("tomatoes")
    assert page.locator(".transcript__lines mark").count() == 1
    page.get_by_label("Find in the transcript").fill("the")
    total = page.locator(".transcript__lines mark").count()
    assert total == 3  # grandmother, the house, together

    page.get_by_role("button", name="Next match").click()
    page.get_by_role("button", name="Next match").click()
    assert page.locator("[data-find-status]").text_content().startswith(f"Match 2 of {total}")
    page.get_by_role("button", name="Previous match").click()
    page.get_by_role("button", name="Previous match").click()
    assert page.locator("[data-find-status]").text_content().startswith(f"Match {total} of {total}")
    assert page.locator(".transcript__lines mark.is-match").count() == 1


def test_a_search_moment_opens_the_story_with_the_player_at_that_time(browser_page, garden_story):
    search_index_rebuild()
    page = browser_page
    page.goto("/search/?q=tomatoes")

    moment = page.locator(f'a.search-moment[href^="{garden_story.url}?t="]').first
    href = moment.get_attribute("href")
    seconds = int(href.rsplit("=", 1)[1])
    moment.click()

    page.wait_for_url(f"**{garden_story.url}?t={seconds}")
    page.wait_for_function(f"() => document.querySelector('#player').currentTime >= {seconds}")
    assert seconds == 3  # the line with "tomatoes" starts at 3.6 s


def test_a_collection_plays_each_story_from_its_start_time(browser_page, garden_story):
    from stories.factories import CollectionEntryFactory, CollectionPageFactory

    collection = CollectionPageFactory(title="Gardens")
    CollectionEntryFactory(page=collection, story=garden_story, sort_order=0, start_seconds=2, note="The tomatoes")
    page = browser_page
    page.goto(collection.url)

    page.get_by_role("button", name="Play the collection in order").click()

    page.wait_for_function("() => { const p = document.querySelector('#player'); return p.played.length > 0; }")
    assert page.eval_on_selector("#player", "player => player.played.start(0)") >= 1.9
    assert "The tomatoes" in page.locator("[data-now-playing]").text_content()


def test_auto_scroll_follows_playback_and_pauses_while_the_reader_scrolls(browser_page, garden_story):
    from transcription.models import Segment

    transcript = garden_story.recording.transcripts.get()
    transcript.segments.all().delete()
    Segment.objects.bulk_create(  # sixty short lines, so the transcript box must scroll to keep up
        Segment(transcript=transcript, index=i, start=i * 0.09, end=(i + 1) * 0.09, text=f"Word {i}") for i in range(60)
    )
    page = browser_page
    page.emulate_media(reduced_motion="reduce")  # scrolling jumps rather than glides
    page.goto(garden_story.url)
    box = ".transcript__lines"

    page.eval_on_selector("#player", "player => player.play()")
    page.wait_for_function(f"() => document.querySelector('{box}').scrollTop > 0")

    page.eval_on_selector(box, "box => { box.dispatchEvent(new WheelEvent('wheel')); box.scrollTop = 0; }")
    reader_at = page.eval_on_selector("#player", "player => player.currentTime")
    page.wait_for_function(f"() => document.querySelector('#player').currentTime > {reader_at} + 1")
    assert page.eval_on_selector(box, "box => box.scrollTop") == 0  # the reader's place is kept

    page.get_by_role("button", name="Back to what is playing").click()
    page.wait_for_function(f"() => document.querySelector('{box}').scrollTop > 0")
