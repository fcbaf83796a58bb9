"""The public hears access copies only, never an original, and no shared cache may answer for a story on its own."""

from pathlib import Path

import av
from django.urls import reverse

from stories.factories import public_story
from stories.models import StoryMedia, StoryPage
from tests.responses import body
from tests.transcription.recordings import RATE, damaged_recording, finished_transcript, samples, store, write_audio
from transcription import services

from .test_intake_support import (  # noqa: F401
    SPEECH_WAV,
    fresh_rate_limits,
    make_invite,
    manage_token_from,
    share_data,
    share_url,
)

# What a phone writes into a recording: where it was made. The public must never receive it.
ADDRESS = "Grandma's kitchen, 12 Elm St"
TAGS = {"location": "+40.6892-074.0445/", "comment": ADDRESS}


def tagged_recording(folder: Path, name: str, **video) -> StoryMedia:
    """A short recording carrying a phone's location and comment, kept as an upload is (and not yet processed)."""
    if video:
        plain = write_audio(
            folder / f"{name}-plain.webm", samples("garden")[: RATE * 2], container="webm", codec="libopus", **video
        )
        tagged, container = folder / f"{name}.webm", "webm"
    else:
        plain = write_audio(folder / f"{name}-plain.mp4", samples("garden")[: RATE * 2], container="mp4", codec="aac")
        tagged, container = folder / f"{name}.mp4", "mp4"
    with av.open(str(plain)) as source, av.open(str(tagged), "w", format=container) as output:
        output.metadata.update(TAGS)
        tracks = {stream.index: output.add_stream_from_template(stream) for stream in source.streams}
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = tracks[packet.stream.index]
                output.mux(packet)
    return store(tagged)


def make_access_copy(media: StoryMedia) -> StoryMedia:
    """What the worker does first: the real access copy (and poster for video), made from the stored original."""
    services.recording_prepare_playback(media=media, path=Path(media.file.path))
    media.refresh_from_db()
    return media


def recording_url(media: StoryMedia, variant: str = "access") -> str:
    return reverse("stories:recording", args=[media.id, variant])


def test_public_never_receives_the_original_recording(client, tmp_path):
    """Until its access copy exists a public story's recording answers "being prepared": no bytes, nothing cached."""
    recordings = [tagged_recording(tmp_path, f"story-{n}") for n in range(4)]
    for media in recordings:
        public_story(recording=media)
    ready = make_access_copy(recordings[0])
    waiting = recordings[1:]
    originals = {media.pk: Path(media.file.path).read_bytes() for media in recordings}
    assert all(ADDRESS.encode() in original for original in originals.values())

    # Control: the one recording whose access copy exists is served, and it is the copy, stripped of the tags.
    served = client.get(recording_url(ready))
    assert served.status_code == 200
    assert body(served) == Path(ready.access_copy.path).read_bytes() != originals[ready.pk]
    assert ADDRESS.encode() not in body(served)

    answers = {}
    for media in waiting:
        for headers in ({}, {"Range": "bytes=0-99"}, {"If-None-Match": "*"}):
            response = client.get(recording_url(media), headers=headers)
            answers[(media.pk, tuple(headers))] = response.status_code
            content = body(response)
            assert response.status_code == 503, headers
            assert b"being prepared" in content
            assert originals[media.pk][:64] not in content and ADDRESS.encode() not in content
            assert "ETag" not in response and "Last-Modified" not in response
            assert response["Cache-Control"] == "no-store" and response["Retry-After"]
    assert len(answers) == 3 * len(waiting)
    served_publicly = [m for m in recordings if client.get(recording_url(m)).status_code == 200]
    assert served_publicly == [ready]
    assert StoryPage.objects.visible_to_public().filter(recording__in=recordings).count() == len(recordings)


def test_an_access_copy_that_cannot_be_made_is_a_failure_the_admin_shows(
    client, admin_user, tmp_path, django_capture_on_commit_callbacks
):
    """The worker records why the copy failed; the admin says so, and the public still gets no original bytes."""
    broken = damaged_recording(b"not a recording at all" * 100, extension=".mp3")
    broken_story = public_story(recording=broken)
    fine = tagged_recording(tmp_path, "fine")
    fine_story = public_story(recording=fine)
    with django_capture_on_commit_callbacks(execute=True):
        services.transcript_request(media=broken)
        services.transcript_request(media=fine)
    broken.refresh_from_db()
    fine.refresh_from_db()

    assert not broken.access_copy and broken.access_copy_error
    assert fine.access_copy and not fine.access_copy_error  # control: the same worker made the other copy
    assert client.get(recording_url(broken)).status_code == 503
    assert client.get(recording_url(fine)).status_code == 200

    client.force_login(admin_user)
    failed_page = client.get(reverse("transcription_admin:story", args=[broken_story.pk])).content.decode()
    fine_page = client.get(reverse("transcription_admin:story", args=[fine_story.pk])).content.decode()
    assert "The listening copy could not be made" in failed_page and broken.access_copy_error in failed_page
    assert "The listening copy could not be made" not in fine_page and "The public hears this copy" in fine_page
    editor = client.get(reverse("wagtailadmin_pages:edit", args=[broken_story.pk])).content.decode()
    assert "no listening copy (failed)" in editor
    assert (
        "no listening copy (failed)"
        not in client.get(reverse("wagtailadmin_pages:edit", args=[fine_story.pk])).content.decode()
    )


def test_a_later_access_copy_clears_the_recorded_failure(tmp_path):
    media = tagged_recording(tmp_path, "retried")
    services.access_copy_fail(media_id=media.pk, reason="The storage was unmounted.")
    media.refresh_from_db()
    assert media.access_copy_error == "The storage was unmounted."
    assert not make_access_copy(media).access_copy_error


def test_public_story_material_has_no_shared_cache_lifetime(client, tmp_path):
    """Recording, poster, captions and page: each public answer makes a cache ask again, so hiding takes at once."""
    video = make_access_copy(tagged_recording(tmp_path, "video", video="libvpx", rate=48_000))
    assert video.poster
    story = public_story(recording=video)
    finished_transcript([(0.0, 2.0, "My grandmother kept a garden.")], media=video)
    other = public_story(recording=make_access_copy(tagged_recording(tmp_path, "other")))
    page = story.url
    urls = [
        recording_url(video),
        recording_url(video, "poster"),
        f"{page}transcript.vtt",
        f"{page}transcript.srt",
        f"{page}transcript.txt",
        page,
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {part.strip().split("=")[0] for part in response["Cache-Control"].split(",")}
        assert "no-cache" in directives or "private" in directives, url
        assert not directives & {"max-age", "s-maxage", "public", "immutable"}, url

    # A cache revalidating its copy of the recording gets 304 while the story is public, and 404 once it is hidden.
    etag = client.get(recording_url(video))["ETag"]
    assert client.get(recording_url(video), headers={"If-None-Match": etag}).status_code == 304
    StoryPage.objects.get(pk=story.pk).unpublish()
    for url in urls:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 404, url
    assert client.get(recording_url(other.recording)).status_code == 200  # control: the other story is still heard


def test_the_storytellers_own_download_is_private_and_never_cached(client):
    with open(SPEECH_WAV, "rb") as recording:
        sent = client.post(share_url(make_invite()), {**share_data(text=""), "recording": recording})
    assert sent.status_code == 302
    token = manage_token_from(client)
    response = client.get(reverse("stories:my-story-recording", args=[token]))
    assert response.status_code == 200
    assert body(response) == SPEECH_WAV.read_bytes()  # their own original, as they sent it
    assert response["Cache-Control"] == "private, no-store"
    assert "ETag" not in response and "Last-Modified" not in response
