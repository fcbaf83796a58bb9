"""What a facilitator does in the Wagtail admin: see progress, correct segments, retry, re-transcribe, read the report."""

import pytest
from django.urls import reverse

from stories.factories import public_story
from tests.transcription.recordings import finished_transcript
from transcription.models import Transcript


@pytest.fixture
def editor(django_user_model, client):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(user)
    return user


def test_the_story_header_shows_processing_state_and_the_page_shows_the_error(client, editor):
    transcript = finished_transcript([], status=Transcript.Status.FAILED, is_current=False)
    Transcript.objects.filter(pk=transcript.pk).update(error="This file is damaged partway through.")
    story = public_story(recording=transcript.media)

    edit = client.get(reverse("wagtailadmin_pages:edit", args=[story.pk])).content.decode()
    assert "Transcript: failed" in edit

    page = client.get(reverse("transcription_admin:story", args=[story.pk])).content.decode()
    assert "This file is damaged partway through." in page and "Retry" in page


def test_a_facilitator_corrects_a_segment_and_the_times_stay(client, editor):
    transcript = finished_transcript([(1.0, 3.5, "my grand ma"), (3.5, 6.0, "kept a garden")])
    story = public_story(recording=transcript.media)
    first, second = transcript.segments.order_by("index")

    response = client.post(
        reverse("transcription_admin:correct", args=[story.pk, transcript.pk]),
        {f"segment-{first.pk}": "My grandma", f"segment-{second.pk}": "kept a garden"},
    )

    assert response.status_code == 302
    first.refresh_from_db()
    transcript.refresh_from_db()
    assert (first.text, first.start, first.end, first.edited) == ("My grandma", 1.0, 3.5, True)
    assert transcript.reviewed


def test_retry_and_re_transcribe_queue_jobs(client, editor, database_tasks, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from transcription.tasks import transcribe_recording

    transcript = finished_transcript([], status=Transcript.Status.FAILED, is_current=False)
    story = public_story(recording=transcript.media)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("transcription_admin:retry", args=[story.pk, transcript.pk]))
        client.post(reverse("transcription_admin:retranscribe", args=[story.pk]), {"model_name": "base"})

    transcript.refresh_from_db()
    again = Transcript.objects.get(media=transcript.media, model_name="base")
    assert transcript.status == Transcript.Status.QUEUED and again.status == Transcript.Status.QUEUED
    jobs = DBTaskResult.objects.filter(task_path=transcribe_recording.module_path)
    assert sorted(job.args_kwargs["kwargs"]["transcript_id"] for job in jobs) == [transcript.pk, again.pk]


def test_the_report_lists_failed_and_pending_jobs_only(client, editor):
    failed = finished_transcript([], status=Transcript.Status.FAILED, is_current=False)
    Transcript.objects.filter(pk=failed.pk).update(error="The sound in this recording cannot be read.")
    public_story(recording=failed.media, title="Broken tape")
    done = finished_transcript([(0, 1, "hello")])
    public_story(recording=done.media, title="All well")

    report = client.get(reverse("transcription_admin:unfinished")).content.decode()
    assert "Broken tape" in report and "cannot be read" in report and "All well" not in report


def test_someone_who_cannot_edit_the_story_cannot_see_its_transcript_admin(client, django_user_model, facilitator):
    transcript = finished_transcript([(0, 1, "hello")])
    story = public_story(recording=transcript.media)
    outsider = django_user_model.objects.create_user("outsider", "o@example.org", "a-long-passphrase")
    client.force_login(outsider)
    assert client.get(reverse("transcription_admin:story", args=[story.pk])).status_code in (302, 403)
