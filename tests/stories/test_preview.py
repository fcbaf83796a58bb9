"""A facilitator previews every kind of story at every stage, and sees the edits they have not saved yet.

A preview renders a page built from the edit form: its themes and participants are held in memory, not in the
database, so every read the story page makes must work on them as they are.
"""

import shutil
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import nested_form_data, querydict_from_html, rich_text, streamfield

from stories.factories import PersonFactory, public_story, theme
from stories.importer import import_manifest
from stories.models import StoryMedia, StoryPage
from stories.services.review import facilitator_review_workflow

from .test_intake_support import fresh_rate_limits, make_invite, share_data, share_url  # noqa: F401

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stories"
MANIFEST_HEADER = (
    "title,summary,community,dialogue,themes,language,recorded_on,file,text,storytellers,consent,visibility\n"
)
IMPORTED_ROW = (
    "The orchard,Planting apple trees,Riverside Commons,Spring Dialogue,thriving-natural-world,"
    "en,2026-04-12,garden.ogg,,Rosa M.|1948|storyteller;Jay T.|2011|interviewer,yes,public"
)
UNSAVED_THEME = "reliable-transportation"


def recording(*, video: bool) -> StoryMedia:
    """A recording row: the preview renders the player's addresses, not the file."""
    return StoryMedia.objects.create(
        file="recordings/garden.ogg",
        size=10,
        sha256="0" * 64,
        container="webm" if video else "ogg",
        audio_codec="opus",
        video_codec="vp8" if video else "",
        content_type="video/webm" if video else "audio/ogg",
        duration_seconds=60.0,
    )


def written_story(**_) -> StoryPage:
    return public_story(
        title="Grandmother's letters",
        live=False,
        people=[PersonFactory(display_name="Rosa M.")],
        themes=[theme("lifelong-learning")],
        body=[("paragraph", "<p>She wrote to me every week.</p>")],
    )


def audio_story(**_) -> StoryPage:
    return public_story(
        title="The river at night",
        live=False,
        people=[PersonFactory(display_name="Rosa M."), PersonFactory(display_name="Jay T.", birth_year=2011)],
        themes=[theme("thriving-natural-world")],
        recording=recording(video=False),
    )


def video_story(**_) -> StoryPage:
    return public_story(
        title="Building the school",
        live=False,
        people=[PersonFactory(display_name="Rosa M.")],
        themes=[theme("lifelong-learning"), theme("meaningful-work")],
        recording=recording(video=True),
    )


def shared_story(*, client, **_) -> StoryPage:
    """Sent through a facilitator's share link: a draft in the review workflow, as the storyteller left it."""
    response = client.post(share_url(make_invite()), share_data())
    assert response.status_code == 302
    return StoryPage.objects.get(title="The garden on Elm Street")


def imported_story(*, tmp_path, **_) -> StoryPage:
    """From a dialogue event's manifest, with the recording probed and stored as the importer does."""
    shutil.copy(FIXTURES / "garden.ogg", tmp_path / "garden.ogg")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(MANIFEST_HEADER + IMPORTED_ROW + "\n", encoding="utf-8")
    outcome = import_manifest(manifest, publish=False)
    assert outcome.failed == []
    return StoryPage.objects.get(title="The orchard")


KINDS = {
    "written": written_story,
    "audio": audio_story,
    "video": video_story,
    "shared": shared_story,
    "imported": imported_story,
}


def to_stage(story: StoryPage, stage: str, facilitator) -> StoryPage:
    """Move a story to a stage the way facilitators do: send it for review, ask for changes, or approve it."""
    in_review = WorkflowState.objects.for_instance(story).filter(status=WorkflowState.STATUS_IN_PROGRESS).first()
    if stage == "moderation" and in_review is None:
        story.save_revision(user=facilitator)
        facilitator_review_workflow().start(story, user=facilitator)
    elif stage == "draft" and in_review is not None:
        task_state = in_review.current_task_state
        task_state.task.specific.on_action(task_state, facilitator, "reject")
    elif stage == "live":
        if in_review is not None:
            task_state = in_review.current_task_state
            task_state.task.specific.on_action(task_state, facilitator, "approve")
        else:
            story.save_revision(user=facilitator).publish()
    story = StoryPage.objects.get(pk=story.pk)
    in_review = WorkflowState.objects.for_instance(story).filter(status=WorkflowState.STATUS_IN_PROGRESS).exists()
    assert (story.live, in_review) == {"draft": (False, False), "moderation": (False, True), "live": (True, False)}[
        stage
    ]
    return story


def edit_form_data(client, story: StoryPage) -> dict:
    """What the edit form would post unchanged; the story's text goes in by hand, since a browser builds it."""
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[story.pk]))
    assert edit.status_code == 200
    data = querydict_from_html(edit.content.decode(), form_id="page-edit-form")
    body = [(block.block_type, rich_text(block.value.source)) for block in story.body]
    data.update(nested_form_data({"body": streamfield(body)}))
    return data


@pytest.mark.parametrize("stage", ["draft", "moderation", "live"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_facilitator_previews_every_kind_of_story_at_every_stage(client, facilitator, tmp_path, kind, stage):
    """The preview shows the form as edited (a new title, a theme and a listener added) and saves nothing."""
    story = KINDS[kind](client=client, tmp_path=tmp_path)
    story = to_stage(story, stage, facilitator)
    client.force_login(facilitator)
    data = edit_form_data(client, story)
    data["title"] = f"{story.title}, as told again"
    data.appendlist("themes", str(theme(UNSAVED_THEME).pk))
    # Recorded in the story's community, as a facilitator adds someone (stories/admin_forms.py): one of theirs.
    listener = PersonFactory(display_name="Abuela Carmen", community=story.community)
    added = int(data["participants-TOTAL_FORMS"])
    data.update(
        {
            "participants-TOTAL_FORMS": str(added + 1),
            f"participants-{added}-id": "",
            f"participants-{added}-person": str(listener.pk),
            f"participants-{added}-role": "listener",
            f"participants-{added}-ORDER": str(added + 1),
            f"participants-{added}-DELETE": "",
        }
    )
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[story.pk])

    checked = client.post(preview_url, data)
    preview = client.get(preview_url)

    assert checked.json() == {"is_valid": True, "is_available": True}
    assert preview.status_code == 200
    html = preview.content.decode()
    assert escape(f"{story.title}, as told again") in html
    assert "Reliable transportation" in html
    for participant in story.participants.all():
        assert participant.person.display_name in html
    assert "Abuela Carmen, listener" in html
    saved = StoryPage.objects.get(pk=story.pk)
    assert saved.title == story.title
    assert UNSAVED_THEME not in {t.slug for t in saved.themes.all()}
    assert listener.pk not in {p.person_id for p in saved.participants.all()}
