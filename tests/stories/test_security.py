"""Named negative tests: hidden stories never leak, what people type is never markup, hostile uploads are refused."""

import datetime
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from stories.factories import (
    CollectionEntryFactory,
    CollectionPageFactory,
    ConsentFactory,
    PersonFactory,
    StoryPageFactory,
    public_story,
    theme,
)
from stories.media import RecordingRefused, recording_store
from stories.models import HomePage, Invite, ShareUpload, StoryMedia, StoryPage, Visibility, Withdrawal
from stories.services import story_withdraw
from tests.responses import body_text

from .test_intake_support import (  # noqa: F401
    FIXTURES,
    SPEECH_WAV,
    fresh_rate_limits,
    make_invite,
    manage_token_from,
    private_files,
    share_data,
    share_url,
)

MARKER = "Quillfeather"
CONTROL = "Brightwater"
TODAY = timezone.localdate()


def stored_recording():
    with open(SPEECH_WAV, "rb") as source:
        return recording_store(source=source, original_filename="speech.wav")


def with_marker_everywhere(story, word):
    """Give a story's recording a transcript that says the word, as the transcription app would."""
    story.recording.transcripts.update(is_current=False)
    transcript = story.recording.transcripts.create(model_name="fixture", status="done", is_current=True)
    transcript.segments.create(index=0, start=0.0, end=2.0, text=f"{word} said my grandmother")
    return story


def marked(label, word=MARKER, **fields):
    body = json.dumps([{"type": "paragraph", "value": f"<p>{word} body</p>"}])
    fields.setdefault("people", [PersonFactory(display_name=f"{word} Elder")])
    return dict(
        title=f"{word} {label}",
        summary=f"{word} summary",
        body=body,
        recording=stored_recording(),
        themes=[theme("humane-housing")],
        **fields,
    )


@pytest.fixture
def hidden_and_open(django_capture_on_commit_callbacks):
    """Six stories that must stay hidden, each saying the marker everywhere, and one open story for contrast."""
    with django_capture_on_commit_callbacks(execute=True):
        hidden = {
            "private": public_story(**marked("private", visibility=Visibility.PRIVATE)),
            "facilitators": public_story(**marked("facilitators", visibility=Visibility.FACILITATORS)),
            "draft": public_story(**marked("draft")),
            "withdrawn": public_story(**marked("withdrawn")),
            "embargoed": public_story(**marked("embargoed", embargo_until=TODAY + datetime.timedelta(days=30))),
        }
        minor = PersonFactory(display_name=f"{MARKER} Youth", birth_year=TODAY.year - 12)
        fields = marked("minor", people=[minor])
        fields.pop("people")
        hidden["minor"] = StoryPageFactory(participants=[minor], recorded_on=TODAY, **fields)
        ConsentFactory(story=hidden["minor"], person=minor)  # no guardian
        open_story = public_story(**marked("open", word=CONTROL))
    # The transcription app has transcribed each recording by now; give each one a transcript saying the marker.
    for story in [*hidden.values(), open_story]:
        with_marker_everywhere(story, CONTROL if story is open_story else MARKER)
    with django_capture_on_commit_callbacks(execute=True):
        hidden["draft"].unpublish()
        story_withdraw(story=hidden["withdrawn"], requested_by=Withdrawal.RequestedBy.STORYTELLER)
        collection = CollectionPageFactory(title="Our collection")
        for story in [*hidden.values(), open_story]:
            CollectionEntryFactory(page=collection, story=story, note="")
        HomePage.objects.update(featured_collection=collection)
    from search.services import search_index_rebuild, story_index_refresh

    search_index_rebuild()
    for story in hidden.values():
        story_index_refresh(story_id=story.pk)  # even an explicit refresh must not index a hidden story
    for story in hidden.values():
        story.refresh_from_db()
    return hidden, open_story, collection


def public_paths(hidden, open_story, collection):
    paths = [
        "/",
        "/stories/",
        collection.url,
        reverse("stories:community", args=[open_story.community.slug]),
        reverse("stories:theme", args=["humane-housing"]),
        "/api/stories",
        f"/api/stories?community={open_story.community.slug}",
        f"/search/?q={MARKER}",
        "/search/?theme=humane-housing",
        f"/api/search?q={MARKER}",
        "/api/search?theme=humane-housing",
        f"/api/search/suggest?q={MARKER[:5]}",
        "/sitemap.xml",
        "/sitemap-pages.xml",
        "/sitemap-stories.xml",
        "/api/openapi.json",
    ]
    for story in [*hidden.values(), open_story]:
        paths.append(f"/api/stories/{story.pk}")
        paths.append(reverse("stories:community", args=[story.community.slug]))
    for story in hidden.values():
        url = story.url or f"/stories/{story.slug}/"
        paths.append(url)
        for name in ("transcript.vtt", "transcript.srt", "transcript.txt"):
            paths += [url + name, url + name + "/"]
    for media in StoryMedia.objects.all():
        paths += [
            reverse("stories:recording", args=[media.id, variant]) for variant in ("access", "original", "poster")
        ]
    return paths


def test_a_marker_in_hidden_stories_is_absent_from_every_public_path(client, hidden_and_open):
    hidden, open_story, collection = hidden_and_open
    for story in hidden.values():
        assert not story.is_visible_to_public()
    # A search page repeats the words searched for; there, only the stories' own phrases count as a leak.
    phrases = [f"{MARKER} {word}".lower() for word in ("summary", "body", "elder", "youth", "said", *hidden)]
    leaks = []
    for path in public_paths(hidden, open_story, collection):
        response = client.get(path)
        assert response.status_code < 500, path
        text = body_text(response).lower()
        echoed = f"q={MARKER}" in path
        if any(phrase in text for phrase in phrases) or (not echoed and MARKER.lower() in text):
            leaks.append(path)
    assert leaks == []


def test_the_open_story_is_on_the_same_paths_so_the_check_is_real(client, hidden_and_open):
    _hidden, open_story, _collection = hidden_and_open
    for path in [
        "/stories/",
        "/api/stories",
        f"/search/?q={CONTROL}",
        f"/api/search?q={CONTROL}",
        "/sitemap-stories.xml",
    ]:
        text = body_text(client.get(path))
        assert CONTROL in text or open_story.url in text, path
    assert CONTROL in body_text(client.get(open_story.url))


def test_restricted_media_answers_anonymous_visitors_without_validators(client, hidden_and_open):
    hidden, _open_story, _collection = hidden_and_open
    for story in hidden.values():
        if story.recording_id is None:
            continue
        for headers in ({}, {"If-None-Match": "*"}, {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}):
            response = client.get(reverse("stories:recording", args=[story.recording_id, "access"]), headers=headers)
            assert response.status_code == 404
            assert "ETag" not in response
            assert "Last-Modified" not in response


def test_wagtails_own_api_is_not_mounted(client):
    for path in ["/api/v2/pages/", f"/api/v2/pages/?search={MARKER}", "/api/v2/images/", "/api/v2/documents/"]:
        assert client.get(path).status_code == 404


# What people type is text, never markup ---------------------------------------------------------------------------

XSS = '"><svg onload=alert(1)>'
JS_LINK = "javascript:alert(1)"


def assert_escaped(html, where):
    assert "<svg onload" not in html, where
    assert 'href="javascript:' not in html.lower(), where
    assert "href='javascript:" not in html.lower(), where


def test_what_a_storyteller_types_is_escaped_on_public_and_admin_pages(client, admin_client, facilitator):
    upload = SimpleUploadedFile(f"{XSS}.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    data = share_data(
        title=f"{XSS} {JS_LINK}",
        text=f'{XSS} <a href="{JS_LINK}">click</a> {JS_LINK}',
        recording=upload,
        email="",
        **{
            "storytellers-0-display_name": f"{XSS} Rose",
            "storytellers-1-display_name": f"{XSS} Maya",
            "storytellers-1-birth_year": str(TODAY.year - 12),
            "storytellers-1-guardian_name": f"{XSS} {JS_LINK}",
            "storytellers-1-guardian_agrees": "on",
        },
    )
    assert client.post(share_url(make_invite()), data).status_code == 302
    token = manage_token_from(client)
    story = StoryPage.objects.get()
    client.post(reverse("stories:my-story", args=[token]), {"action": "correction", "note": f"{XSS} {JS_LINK}"})
    assert_escaped(body_text(client.get(reverse("stories:my-story", args=[token]))), "manage page")

    # A facilitator publishes it: now every public page shows what the storyteller typed.
    story.save_revision(user=facilitator).publish(user=facilitator)
    story.refresh_from_db()
    assert story.is_visible_to_public()
    pages = [story.url, "/stories/", "/", reverse("stories:community", args=[story.community.slug]), "/search/?q=Rose"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_escaped(body_text(response), path)
    assert "&lt;svg onload" in body_text(client.get(story.url))

    admin_pages = [
        reverse("wagtailadmin_pages:edit", args=[story.pk]),
        reverse("wagtailadmin_explore", args=[story.get_parent().pk]),
        reverse("wagtailsnippets_stories_consent:list"),
        reverse("wagtailsnippets_stories_correctionrequest:list"),
        reverse("wagtailsnippets_stories_person:list") if _has_person_snippet() else "/admin/",
        reverse("stories_record_withdrawal", args=[story.pk]),
        "/admin/workflows/tasks/index/",
        "/admin/",
    ]
    for path in admin_pages:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert_escaped(body_text(response), path)


def _has_person_snippet():
    from django.urls import NoReverseMatch

    try:
        reverse("wagtailsnippets_stories_person:list")
    except NoReverseMatch:
        return False
    return True


def as_saved_by_the_editor(text, *, link_text, url):
    """Rich text as the admin's editor stores it: its converter turns what was typed into the database format."""
    from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter

    offset = text.index(link_text)
    contentstate = {
        "blocks": [
            {
                "key": "a",
                "type": "unstyled",
                "depth": 0,
                "text": text,
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": offset, "length": len(link_text), "key": 0}],
                "data": {},
            }
        ],
        "entityMap": {"0": {"type": "LINK", "mutability": "MUTABLE", "data": {"url": url}}},
    }
    converter = ContentstateConverter(features=["bold", "italic", "link", "ol", "ul"])
    return converter.to_database_format(json.dumps(contentstate))


def test_what_a_facilitator_types_is_escaped_on_public_and_admin_pages(client, admin_client):
    from stories.models import Community, Dialogue

    community = Community.objects.create(
        name=f"{XSS} Town", slug="xss-town", place=f"{XSS} {JS_LINK}", description=f"{XSS} {JS_LINK}"
    )
    dialogue = Dialogue.objects.create(title=f"{XSS} Dialogue", community=community, place=XSS)
    body = json.dumps(
        [
            {"type": "paragraph", "value": as_saved_by_the_editor(f"{XSS} link", link_text="link", url=JS_LINK)},
            {"type": "quote", "value": {"text": f"{XSS} {JS_LINK}", "attribution": XSS}},
        ]
    )
    story = public_story(
        title=f"{XSS} story",
        summary=f"{XSS} {JS_LINK}",
        body=body,
        community=community,
        dialogue=dialogue,
        people=[PersonFactory(display_name=f"{XSS} Elder", full_name=XSS)],
    )
    story.keywords.add(XSS)
    story.save()
    collection = CollectionPageFactory(title=f"{XSS} collection", curator=XSS)
    CollectionEntryFactory(page=collection, story=story, note=f"{XSS} {JS_LINK}")
    Invite.objects.create(community=community, label=f"{XSS} {JS_LINK}", expires_at=timezone.now())
    public = [
        story.url,
        collection.url,
        "/stories/",
        reverse("stories:community", args=["xss-town"]),
        "/search/?q=story",
    ]
    for path in public:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_escaped(body_text(response), path)
    for path in [
        reverse("wagtailadmin_pages:edit", args=[story.pk]),
        reverse("wagtailsnippets_stories_invite:list"),
        reverse("wagtailsnippets_stories_consent:list"),
    ]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert_escaped(body_text(response), path)


# Hostile uploads ---------------------------------------------------------------------------------------------------


def hostile_files(tmp_path):
    zip_path = tmp_path / "archive.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("story.txt", "hello " * 1000)
    speech = SPEECH_WAV.read_bytes()
    return {
        "html renamed to .mp3": ("story.mp3", b"<!DOCTYPE html><html><script>alert(1)</script></html>" * 40),
        "svg renamed to .mp4": ("story.mp4", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' * 40),
        "zip renamed to .mp3": ("story.mp3", zip_path.read_bytes()),
        "m3u8 playlist renamed to .mp4": (
            "story.mp4",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/evil.ts\n#EXT-X-ENDLIST\n",
        ),
        "zero bytes": ("story.wav", b""),
        "truncated": ("story.wav", speech[: len(speech) // 3]),
        "wav header only": ("story.wav", speech[:44]),
    }


@pytest.mark.parametrize(
    "case",
    [
        "html renamed to .mp3",
        "svg renamed to .mp4",
        "zip renamed to .mp3",
        "m3u8 playlist renamed to .mp4",
        "zero bytes",
        "truncated",
        "wav header only",
    ],
)
def test_spoofed_empty_and_truncated_files_are_refused_and_leave_nothing(client, tmp_path, case):
    name, content = hostile_files(tmp_path)[case]
    before = private_files()
    upload = SimpleUploadedFile(name, content, content_type="audio/mpeg")
    response = client.post(share_url(make_invite()), share_data(text="", recording=upload))
    assert response.status_code == 400
    text = body_text(response)
    assert any(
        phrase in text
        for phrase in ("not an audio or video recording", "empty", "cut short", "damaged", "cannot be read", "no sound")
    ), text[:3000]
    assert not StoryPage.objects.exists() or not StoryPage.objects.filter(title="The garden on Elm Street").exists()
    assert not StoryMedia.objects.exists()
    assert private_files() == before


def test_a_header_claiming_more_than_the_longest_recording_is_refused(settings):
    settings.STORY_MAX_DURATION_SECONDS = 1
    before = private_files()
    with pytest.raises(RecordingRefused, match="says it lasts"):
        with open(SPEECH_WAV, "rb") as source:
            recording_store(source=source, original_filename="speech.wav")
    assert not StoryMedia.objects.exists()
    assert private_files() == before


def test_a_wav_header_claiming_five_hours_is_refused_before_it_is_read(tmp_path):
    speech = bytearray(SPEECH_WAV.read_bytes())
    # RIFF and data sizes that claim 5 hours of 16 kHz mono 16-bit sound.
    claimed = 5 * 3600 * 16000 * 2
    speech[4:8] = (claimed + 36).to_bytes(4, "little")
    speech[40:44] = claimed.to_bytes(4, "little")
    with pytest.raises(RecordingRefused, match="says it lasts 5.0 hours"):
        recording_store(source=iter([bytes(speech)]), original_filename="long.wav")
    assert not StoryMedia.objects.exists()


def test_an_oversized_share_form_gets_413_before_it_is_read(client, settings):
    settings.STORY_UPLOAD_MAX_BYTES = 1024
    invite = make_invite()
    before = private_files()
    upload = SimpleUploadedFile("big.wav", SPEECH_WAV.read_bytes() * 20, content_type="audio/wav")
    response = client.post(share_url(invite), share_data(text="", recording=upload))
    assert response.status_code == 413
    assert "This file is too large" in body_text(response)
    assert not StoryPage.objects.filter(title="The garden on Elm Street").exists()
    assert private_files() == before


def test_an_oversized_file_within_the_form_margin_still_gets_413(client, settings):
    settings.STORY_UPLOAD_MAX_BYTES = SPEECH_WAV.stat().st_size - 10
    before = private_files()
    upload = SimpleUploadedFile("big.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    response = client.post(share_url(make_invite()), share_data(text="", recording=upload))
    assert response.status_code == 413
    assert not StoryMedia.objects.exists()
    assert private_files() == before


@pytest.mark.parametrize(
    "name", ["../../../etc/passwd.wav", "..\\..\\windows\\win.ini.wav", "/tmp/x.wav", "a\x00b.wav"]
)
def test_path_traversal_in_a_filename_never_reaches_the_disk(client, name):
    upload = SimpleUploadedFile(name, SPEECH_WAV.read_bytes(), content_type="audio/wav")
    response = client.post(share_url(make_invite()), share_data(text="", recording=upload))
    assert response.status_code == 302
    media = StoryMedia.objects.get()
    assert media.file.name == f"recordings/{media.id.hex[:2]}/{media.id.hex}/original.wav"
    assert "/" not in media.original_filename and "\\" not in media.original_filename
    assert ".." not in media.original_filename.replace("...", "")


def test_resumable_upload_filenames_are_text_only(client):
    invite = make_invite()
    response = client.post(
        reverse("stories:share-uploads", args=[invite.token]),
        headers={"Upload-Length": "100", "Upload-Filename": "..%2F..%2Fsettings.py"},
    )
    assert response.status_code == 201
    upload = ShareUpload.objects.get()
    assert response.json()["url"].endswith(f"/uploads/{upload.id}/")
    from stories.services import share_upload_path

    assert share_upload_path(upload).name == f"{upload.id.hex}.part"


def test_an_expired_token_refuses_form_uploads_and_pieces(client):
    invite = make_invite()
    upload_id = client.post(
        reverse("stories:share-uploads", args=[invite.token]), headers={"Upload-Length": "100"}
    ).json()["id"]
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.post(share_url(invite), share_data()).status_code == 404
    assert (
        client.post(reverse("stories:share-uploads", args=[invite.token]), headers={"Upload-Length": "100"}).status_code
        == 404
    )
    piece = client.generic(
        "PATCH",
        reverse("stories:share-upload", args=[invite.token, upload_id]),
        b"x" * 10,
        content_type="application/offset+octet-stream",
        headers={"Upload-Offset": "0"},
    )
    assert piece.status_code == 404
    assert not StoryPage.objects.exists() or not StoryPage.objects.filter(title="The garden on Elm Street").exists()


def test_a_reused_upload_cannot_attach_one_recording_to_two_stories(client):
    invite = make_invite()
    size = SPEECH_WAV.stat().st_size
    created = client.post(reverse("stories:share-uploads", args=[invite.token]), headers={"Upload-Length": str(size)})
    url = created.json()["url"]
    finished = client.generic(
        "PATCH", url, SPEECH_WAV.read_bytes(), content_type="application/offset+octet-stream",
        headers={"Upload-Offset": "0"},
    )  # fmt: skip
    assert finished.json()["complete"] is True
    upload_id = created.json()["id"]
    assert client.post(share_url(invite), share_data(text="", upload_id=upload_id)).status_code == 302
    again = client.post(share_url(invite), share_data(title="Second", text="", upload_id=upload_id))
    assert again.status_code == 400
    assert not StoryPage.objects.filter(title="Second").exists()


def test_a_reused_manage_token_after_withdrawal_shows_nothing_of_the_story(client):
    client.post(share_url(make_invite()), share_data(title=f"{MARKER} story", text=f"{MARKER} text"))
    token = manage_token_from(client)
    client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw", "confirm": "on"})
    page = body_text(client.get(reverse("stories:my-story", args=[token])))
    assert MARKER not in page
    client.post(reverse("stories:my-story", args=[token]), {"action": "correction", "note": "again"})
    assert not StoryPage.objects.get().correction_requests.exists()
