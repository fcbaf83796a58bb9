"""Chapters: facilitators name places in a story's recording in the admin; the public meets them on the story's page,
in the API and as a Podcasting 2.0 JSON chapters file at the story's address followed by chapters.json, and only
while the story itself is public.

assert_chapters_follow_the_rule(client, expected, paths), for the consent property test: exactly the stories in
`expected` (the ids the rule allows now) that have a recording with chapters answer their chapters file; every other
story's chapters file is 404 and names none of its chapters.
"""

import datetime
import json
import math
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils.html import escape

from stories.factories import ChapterFactory, PersonFactory, StoryPageFactory, public_story
from stories.models import Chapter, StoryPage, Visibility
from stories.services import story_withdraw
from tests.hidden_answers import shows_nothing
from tests.podcasts.conftest import build_archive, public_ids, recording, story_paths

from .test_preview import edit_form_data

# podcast-namespace docs/jsonChapters.md, version 1.2.0: the keys a chapter may have, and the document's own.
CHAPTER_KEYS = {"startTime", "endTime", "title", "img", "url", "toc", "location"}
DOCUMENT_KEYS = {"version", "chapters", "author", "title", "podcastName", "description", "fileName", "waypoints"}
ARCHIVE = 30  # more than one page of 20 in the listings and the API


def chapters_path(paths: dict[int, str], story_id: int) -> str:
    return f"{paths[story_id]}chapters.json"


def assert_json_chapters_shape(document: dict) -> None:
    """The shape the jsonChapters spec gives: a version string, chapters in ascending startTime, each with a number
    startTime and a title, optional numbers endTime (after its start) and strings url; no keys it does not name."""
    assert isinstance(document, dict) and set(document) <= DOCUMENT_KEYS, set(document) - DOCUMENT_KEYS
    assert isinstance(document["version"], str) and document["version"] == "1.2.0"
    chapters = document["chapters"]
    assert isinstance(chapters, list) and chapters
    starts = []
    for chapter in chapters:
        assert set(chapter) <= CHAPTER_KEYS, set(chapter) - CHAPTER_KEYS
        start = chapter["startTime"]
        assert isinstance(start, int | float) and not isinstance(start, bool) and math.isfinite(start) and start >= 0
        assert isinstance(chapter["title"], str) and chapter["title"]
        if "endTime" in chapter:
            end = chapter["endTime"]
            assert isinstance(end, int | float) and not isinstance(end, bool) and end > start
        if "url" in chapter:
            assert isinstance(chapter["url"], str) and chapter["url"].startswith(("http://", "https://"))
        starts.append(start)
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "startTime must ascend"


def assert_chapters_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    with_chapters = set(
        StoryPage.objects.filter(recording__isnull=False, chapters__isnull=False).values_list("pk", flat=True)
    )
    titles: dict[int, list[str]] = {}
    for story_id, title in Chapter.objects.order_by("start_seconds", "pk").values_list("story_id", "title"):
        titles.setdefault(story_id, []).append(title)
    for story_id, story_title in StoryPage.objects.values_list("pk", "title"):
        if story_id not in paths:
            continue
        path = chapters_path(paths, story_id)
        response = client.get(path)
        if story_id in expected and story_id in with_chapters:
            assert response.status_code == 200, f"{path} answers {response.status_code} for a public story's chapters"
            assert response["Content-Type"] == "application/json+chapters"
            document = json.loads(response.content)
            assert_json_chapters_shape(document)
            assert [chapter["title"] for chapter in document["chapters"]] == titles[story_id], path
            continue
        if story_id in expected:
            assert response.status_code == 404, f"{path} answers {response.status_code} for a story without chapters"
        else:
            assert shows_nothing(response), f"{path} answers {response.status_code} for a story the rule hides"
        body = unescape(response.content.decode())
        for title in titles.get(story_id, []):
            assert title not in body, f"{path} names a chapter of a story the rule hides"
        if story_id not in expected:
            assert story_title not in body, f"{path} names a story the rule hides"


def story_with_chapters(title="The seawall", *, duration=300.0, chapters=((0, "Arriving"), (95, "The storm"))):
    story = public_story(title=title, recording=recording(duration=duration))
    for start, name in chapters:
        ChapterFactory(story=story, start_seconds=start, title=name)
    return story


# The admin ----------------------------------------------------------------------------------------------------------


def chapter_rows(data, rows) -> None:
    """Add these (start, end, title, url) rows to the edit form's chapters, as the admin's "Add chapter" does."""
    existing = int(data["chapters-TOTAL_FORMS"])
    for n, (start, end, title, url) in enumerate(rows, start=existing):
        data.update(
            {
                f"chapters-{n}-id": "",
                f"chapters-{n}-start_seconds": str(start),
                f"chapters-{n}-end_seconds": "" if end is None else str(end),
                f"chapters-{n}-title": title,
                f"chapters-{n}-url": url,
                f"chapters-{n}-DELETE": "",
            }
        )
    data["chapters-TOTAL_FORMS"] = str(existing + len(rows))


def test_a_facilitator_adds_chapters_where_they_edit_the_story_and_they_go_out_with_it(client, facilitator):
    story = public_story(title="The seawall", recording=recording(duration=300.0))
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    chapter_rows(data, [(95, 180, "The storm", "https://example.org/storm"), (0, None, "Arriving", "")])

    saved = client.post(reverse("wagtailadmin_pages:edit", args=[story.pk]), data)

    assert saved.status_code == 302, "the draft is saved"
    assert not Chapter.objects.filter(story=story).exists(), "a draft's chapters wait for it to be published"
    StoryPage.objects.get(pk=story.pk).get_latest_revision().publish()
    assert list(Chapter.objects.filter(story=story).values_list("start_seconds", "end_seconds", "title", "url")) == [
        (0, None, "Arriving", ""),
        (95, 180, "The storm", "https://example.org/storm"),
    ]
    client.logout()
    page = client.get(story.url).content.decode()
    assert '<a href="?t=95" data-seek="95"><span class="chapters__time">01:35</span> The storm</a>' in page


@pytest.mark.parametrize(
    "rows, field, message",
    [
        ([(301, None, "After the end", "")], "start_seconds", "The start (301 seconds) is after the recording ends"),
        ([(300, None, "At the very end", "")], "start_seconds", "is after the recording ends: it is 05:00"),
        (
            [(10, None, "One", ""), (10, None, "Two", "")],
            "start_seconds",
            "The chapter “One” already starts at 10 seconds (00:10)",
        ),
        ([(60, 30, "Backwards", "")], "end_seconds", "The end must come after the start (60 seconds)"),
        ([(60, 60, "No time at all", "")], "end_seconds", "The end must come after the start (60 seconds)"),
        ([(60, 400, "Runs on", "")], "end_seconds", "The end (400 seconds) is after the recording ends"),
        ([(-5, None, "Before the start", "")], "start_seconds", "The start must be 0 seconds or later."),
        ([(5, None, "", "")], "title", "Give the chapter a title: it is what listeners see"),
        ([("", None, "No start", "")], "start_seconds", "This field is required."),
        ([(5, None, "A link", "not a link")], "url", "Enter a valid URL."),
    ],
)
def test_the_admin_refuses_chapters_that_do_not_fit_with_a_message_at_the_field(
    client, facilitator, rows, field, message
):
    story = public_story(title="The seawall", recording=recording(duration=300.0))
    ChapterFactory(story=story, start_seconds=0, title="Arriving")
    revisions = story.revisions.count()
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    chapter_rows(data, rows)

    response = client.post(reverse("wagtailadmin_pages:edit", args=[story.pk]), data)

    assert response.status_code == 200, "the form comes back to be corrected"
    html = response.content.decode()
    assert escape(message) in html
    # The message sits at the field it is about, in the chapter that has the problem.
    errors = [
        (name, error)
        for form in response.context["form"].formsets["chapters"].forms
        for name, errors in form.errors.items()
        for error in errors
    ]
    assert any(name == field and message in error for name, error in errors), errors
    assert story.revisions.count() == revisions, "nothing is saved"
    assert list(Chapter.objects.filter(story=story).values_list("title", flat=True)) == ["Arriving"]


def test_a_recording_of_unknown_length_takes_any_start(client, facilitator):
    story = public_story(title="The seawall", recording=recording(duration=None))
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    chapter_rows(data, [(5000, None, "Much later", "")])
    assert client.post(reverse("wagtailadmin_pages:edit", args=[story.pk]), data).status_code == 302


def test_a_written_story_is_told_it_has_no_recording_to_mark(client, facilitator):
    story = public_story(title="Housing on Elm Street")
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    chapter_rows(data, [(0, None, "The start", "")])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[story.pk]), data)
    assert response.status_code == 200
    assert escape("This story has no recording: chapters mark places in a recording.") in response.content.decode()


def test_a_duplicate_start_removed_in_the_same_edit_is_no_duplicate(client, facilitator):
    story = public_story(title="The seawall", recording=recording(duration=300.0))
    ChapterFactory(story=story, start_seconds=10, title="Old name")
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    data["chapters-0-DELETE"] = "1"
    chapter_rows(data, [(10, None, "New name", "")])
    assert client.post(reverse("wagtailadmin_pages:edit", args=[story.pk]), data).status_code == 302
    StoryPage.objects.get(pk=story.pk).get_latest_revision().publish()
    assert list(Chapter.objects.filter(story=story).values_list("title", flat=True)) == ["New name"]


def test_a_preview_shows_chapters_as_edited_and_saves_nothing(client, facilitator):
    story = public_story(title="The seawall", recording=recording(duration=300.0))
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    chapter_rows(data, [(42, None, "Not yet saved", "")])
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[story.pk])

    assert client.post(preview_url, data).json() == {"is_valid": True, "is_available": True}
    preview = client.get(preview_url).content.decode()

    assert '<a href="?t=42" data-seek="42"><span class="chapters__time">00:42</span> Not yet saved</a>' in preview
    assert not Chapter.objects.filter(story=story).exists()


# The chapters file --------------------------------------------------------------------------------------------------


def test_a_public_storys_chapters_file_follows_the_json_chapters_spec(client):
    story = story_with_chapters(chapters=((95, "The storm"), (0, "Arriving"), (200, "Rebuilding")))
    ChapterFactory(story=story, start_seconds=250, end_seconds=290, title="Afterwards", url="https://example.org/a")

    response = client.get(f"{story.url}chapters.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json+chapters"
    assert response["Cache-Control"] == "no-cache", "kept by a cache only to ask again, as the transcript files are"
    document = json.loads(response.content)
    assert_json_chapters_shape(document)
    assert document["chapters"] == [
        {"startTime": 0, "title": "Arriving"},
        {"startTime": 95, "title": "The storm"},
        {"startTime": 200, "title": "Rebuilding"},
        {"startTime": 250, "endTime": 290, "title": "Afterwards", "url": "https://example.org/a"},
    ]


def test_control_the_shape_check_refuses_what_the_spec_refuses():
    good = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 5.5, "title": "B"}]}
    assert_json_chapters_shape(good)
    for broken in (
        {"chapters": good["chapters"]},
        {"version": "1.2.0", "chapters": [{"startTime": 5, "title": "B"}, {"startTime": 0, "title": "A"}]},
        {"version": "1.2.0", "chapters": [{"startTime": "0", "title": "A"}]},
        {"version": "1.2.0", "chapters": [{"startTime": 0}]},
        {"version": "1.2.0", "chapters": [{"startTime": 4, "endTime": 2, "title": "A"}]},
        {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A", "speaker": "Rosa"}]},
    ):
        with pytest.raises((AssertionError, KeyError)):
            assert_json_chapters_shape(broken)


def test_a_story_without_chapters_has_no_chapters_file(client):
    recorded = public_story(title="No chapters", recording=recording())
    written = public_story(title="Written")
    ChapterFactory(story=written, start_seconds=0, title="Left over from a recording")
    for story in (recorded, written):
        assert client.get(f"{story.url}chapters.json").status_code == 404


@pytest.mark.parametrize("hiding", ["private", "unpublished", "embargoed", "consent withdrawn", "no guardian"])
def test_a_hidden_storys_chapters_file_is_not_found(client, hiding):
    """Named negative test: the chapters file answers only while the rule lets the public see the story."""
    visible = story_with_chapters("Told in the open", chapters=((0, "Open start"),))
    if hiding == "no guardian":
        minor = PersonFactory(display_name="Jay T.", birth_year=2015)
        story = StoryPageFactory(title="Kept back", recording=recording(), participants=[minor])
        story.consents.create(person=minor, given_by="Jay T.", given_at=datetime.datetime.now(datetime.UTC))
        ChapterFactory(story=story, start_seconds=0, title="Secret start")
    else:
        story = story_with_chapters("Kept back", chapters=((0, "Secret start"), (40, "Secret middle")))
    if hiding == "private":
        story.visibility = Visibility.PRIVATE
        story.save()
    elif hiding == "unpublished":
        story.unpublish()
    elif hiding == "embargoed":
        story.embargo_until = datetime.date(2099, 1, 1)
        story.save()
    elif hiding == "consent withdrawn":
        consent = story.consents.get()
        consent.withdrawn_at = datetime.datetime.now(datetime.UTC)
        consent.save()

    control = client.get(f"{visible.url}chapters.json")
    assert control.status_code == 200, "control: a public story's chapters file answers"
    assert "Open start" in control.content.decode()
    response = client.get(f"{story_paths()[story.pk]}chapters.json")
    assert response.status_code == 404
    assert "Secret" not in response.content.decode() and "Kept back" not in response.content.decode()
    assert_chapters_follow_the_rule(client, public_ids(), story_paths())


def test_chapters_follow_the_rule_across_an_archive_bigger_than_a_page(client):
    stories = build_archive(ARCHIVE)
    for n, story in enumerate(stories):
        if n % 3 == 0:
            ChapterFactory(story=story, start_seconds=0, title=f"Harbour chapter {n}")
            ChapterFactory(story=story, start_seconds=30, title=f"Harbour chapter {n}, later")
    stories[3].visibility = Visibility.PRIVATE
    stories[3].save()
    stories[6].unpublish()
    story_withdraw(story=stories[9], requested_by="storyteller")
    consent = stories[12].consents.get()
    consent.withdrawn_at = datetime.datetime.now(datetime.UTC)
    consent.save()
    expected, paths = public_ids(), story_paths()
    assert len(expected & {story.pk for story in stories[::3]}) == 6, "control: some stories with chapters are public"

    assert_chapters_follow_the_rule(client, expected, paths)
    listed = client.get("/api/stories", {"page_size": 20}).json()
    seen = {}
    while True:
        seen |= {item["id"]: item for item in listed["items"]}
        if not listed["next"]:
            break
        listed = client.get(listed["next"]).json()
    for story in stories[3:13:3]:
        assert story.pk not in seen
    assert {pk for pk, item in seen.items() if item["chapters"]} == expected & {story.pk for story in stories[::3]}


def test_control_the_chapters_check_fails_when_the_file_ignores_the_rule(client, monkeypatch):
    story = story_with_chapters("Kept back")
    story.visibility = Visibility.PRIVATE
    story.save()
    expected, paths = public_ids(), story_paths()
    assert_chapters_follow_the_rule(client, expected, paths)

    monkeypatch.setattr(StoryPage, "is_visible_to_public", lambda self: True)
    with pytest.raises(AssertionError, match="answers 200"):
        assert_chapters_follow_the_rule(client, expected, paths)


def test_a_withdrawn_storys_chapters_are_deleted(client):
    story = story_with_chapters("Taken back")
    story_withdraw(story=story, requested_by="storyteller")
    assert not Chapter.objects.filter(story_id=story.pk).exists()
    assert {"kind": "chapters", "count": 2} in story.withdrawals.get().removed


# The story page and the API -----------------------------------------------------------------------------------------


def test_the_story_page_lists_its_chapters_as_links_that_play_from_their_start(client):
    story = story_with_chapters(chapters=((95, "The storm"), (0, "Arriving"), (3725, "Years later")))
    story.recording.duration_seconds = 4000
    story.recording.save()
    ChapterFactory(story=story, start_seconds=200, title="The new wall", url="https://example.org/wall")

    page = client.get(story.url).content.decode()

    chapters = page[page.index('<section class="chapters"') : page.index("</section>", page.index("chapters-title"))]
    links = [
        (link, unescape(text)) for link, text in re.findall(r'<a href="\?t=(\d+)" data-seek="\d+">(.*?)</a>', chapters)
    ]
    assert [
        (link, text.replace('<span class="chapters__time">', "").replace("</span>", "")) for link, text in links
    ] == [
        ("0", "00:00 Arriving"),
        ("95", "01:35 The storm"),
        ("200", "03:20 The new wall"),
        ("3725", "1:02:05 Years later"),
    ]
    assert 'href="https://example.org/wall" rel="nofollow noopener">More' in chapters
    assert "<script>" not in chapters and "onclick" not in chapters, "no inline script: the site has a CSP"
    moment = client.get(story.url, {"t": "95"}).content.decode()
    assert 'data-start="95"' in moment, "a chapter's link opens the player at its start, as every ?t= link does"


def test_a_story_without_chapters_shows_no_chapters(client):
    story = public_story(title="No chapters", recording=recording())
    assert "chapters-title" not in client.get(story.url).content.decode()


def test_the_api_lists_a_storys_chapters_and_its_chapters_file(client):
    story = story_with_chapters()
    ChapterFactory(story=story, start_seconds=120, end_seconds=150, title="Aside", url="https://example.org/aside")
    plain = public_story(title="No chapters", recording=recording())

    detail = client.get(f"/api/stories/{story.pk}").json()

    assert detail["chapters"] == [
        {"start": 0, "end": None, "title": "Arriving", "url": None},
        {"start": 95, "end": None, "title": "The storm", "url": None},
        {"start": 120, "end": 150, "title": "Aside", "url": "https://example.org/aside"},
    ]
    assert detail["chapters_url"] == f"http://testserver{story.url}chapters.json"
    assert client.get(detail["chapters_url"].removeprefix("http://testserver")).status_code == 200
    none = client.get(f"/api/stories/{plain.pk}").json()
    assert none["chapters"] == [] and none["chapters_url"] is None
    items = {item["id"]: item for item in client.get("/api/stories").json()["items"]}
    assert items[story.pk]["chapters"] == detail["chapters"]


def test_a_hidden_storys_chapters_are_not_in_the_api(client):
    story = story_with_chapters("Kept back")
    assert client.get(f"/api/stories/{story.pk}").status_code == 200, "control: public, it answers"
    story.visibility = Visibility.PRIVATE
    story.save()
    response = client.get(f"/api/stories/{story.pk}")
    assert response.status_code == 404 and "Arriving" not in response.content.decode()
