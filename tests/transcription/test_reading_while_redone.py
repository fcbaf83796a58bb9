"""The transcript people read: a story's page, its caption files, the storyteller's own page, the API and search
all show the same words, and the old words stay there while a new transcript is made, until it is done."""

import html

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import WorkflowState

from search.services import story_index_refresh
from stories.models import StoryPage
from tests.stories.test_intake_support import (  # noqa: F401
    SPEECH_WAV,
    fresh_rate_limits,
    make_invite,
    manage_token_from,
    share_data,
    share_url,
)
from tests.transcription.test_formats import parse_webvtt
from transcription import services
from transcription.models import Transcript

OLD_WORDS = "Zanzibarquux told us about her grandmother"


def shared_and_published(client, facilitator, capture) -> tuple[StoryPage, str]:
    """A recording shared through the form, transcribed by the shipped model, approved by a facilitator."""
    upload = SimpleUploadedFile("grandma.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    with capture(execute=True):
        client.post(share_url(make_invite()), share_data(title="The garden", recording=upload))
    token = manage_token_from(client)
    story = StoryPage.objects.get(title="The garden")
    state = WorkflowState.objects.for_instance(story).get()
    with capture(execute=True):
        state.current_task_state.task.specific.on_action(state.current_task_state, facilitator, "approve")
    story.refresh_from_db()
    assert story.is_visible_to_public()
    return story, token


def what_people_read(client, story: StoryPage, token: str) -> dict[str, str]:
    """The words of the story's transcript as each reader gets them."""
    vtt = client.get(f"{story.url}transcript.vtt")
    download = client.get(reverse("stories:my-story-transcript", args=[token]))
    detail = client.get(f"/api/stories/{story.pk}").json()["transcript"]
    hits = client.get("/api/search", {"q": "Zanzibarquux"}).json()
    return {
        "story page": html.unescape(client.get(story.url).content.decode()),
        "transcript.vtt": " ".join(cue["text"] for cue in parse_webvtt(vtt.content.decode()))
        if vtt.status_code == 200
        else "",
        "storyteller's download": download.content.decode() if download.status_code == 200 else "",
        "API": " ".join(segment["text"] for segment in detail["segments"]),
        "search": " ".join(
            moment["text"] for hit in hits["results"] if hit["id"] == story.pk for moment in hit["moments"]
        ),
    }


def test_the_old_words_stay_readable_everywhere_until_the_new_transcript_is_done(
    client, facilitator, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    story, token = shared_and_published(client, facilitator, capture)
    transcript = Transcript.objects.get(media_id=story.recording_id)
    machine_words = " ".join(transcript.segments.values_list("text", flat=True))
    assert transcript.status == Transcript.Status.DONE and machine_words.strip()
    first = transcript.segments.order_by("index").first()
    with capture(execute=True):
        services.transcript_correct(transcript=transcript, texts={first.pk: OLD_WORDS})
    assert all(OLD_WORDS in words for words in what_people_read(client, story, token).values())

    # The facilitator asks for the recording to be transcribed again, replacing their correction.
    with capture() as queued_job:
        services.transcript_request(media=story.recording, supersede_corrections=True)
    assert Transcript.objects.get(pk=transcript.pk).status == Transcript.Status.QUEUED
    story_index_refresh(story_id=story.pk)  # anything that reindexes the story meanwhile keeps the old words
    assert {where: OLD_WORDS in words for where, words in what_people_read(client, story, token).items()} == {
        "story page": True,
        "transcript.vtt": True,
        "storyteller's download": True,
        "API": True,
        "search": True,
    }
    assert client.get(f"/api/stories/{story.pk}").json()["transcript"]["status"] == "queued"
    manage_page = client.get(reverse("stories:my-story", args=[token])).content.decode()
    assert reverse("stories:my-story-transcript", args=[token]) in manage_page

    services.transcript_fail(transcript_id=transcript.pk, reason="The server was restarted.")
    story_index_refresh(story_id=story.pk)
    assert all(OLD_WORDS in words for words in what_people_read(client, story, token).values())

    # Tried again and done: the new words replace the old ones everywhere at once. (The page cache forgets its pages
    # on commit of any change; the one job is the transcription.)
    assert len([callback for callback in queued_job if callback.__module__ != "stories.page_cache"]) == 1
    with capture(execute=True):
        services.transcript_retry(transcript=Transcript.objects.get(pk=transcript.pk))
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.DONE and transcript.is_current and not transcript.reviewed
    new_first = transcript.segments.order_by("index").first().text
    assert "Zanzibarquux" not in new_first
    read = what_people_read(client, story, token)
    assert {where: OLD_WORDS in words for where, words in read.items()} == dict.fromkeys(read, False)
    assert all(new_first.strip() in words for where, words in read.items() if where != "search")
    assert client.get("/api/search", {"q": "Zanzibarquux"}).json()["count"] == 0
