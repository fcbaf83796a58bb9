"""The review dashboard on the admin home: how much waits for the facilitators, each count a link to its list."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone

from stories.factories import StoryPageFactory, story_index
from stories.models import CorrectionRequest, StoryMedia, Withdrawal
from stories.services import facilitator_review_workflow
from transcription.models import Transcript

from .test_withdrawal import client_for


def dashboard(client) -> dict[str, tuple[int, str]]:
    """The panel's rows as the facilitator reads them: label -> (count, link)."""
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    panel = html[html.index('id="review-dashboard-content"') :]
    panel = panel[: panel.index("</ul>")]
    rows = re.findall(r'<a href="([^"]+)"><strong>(\d+)</strong> ([^<]+)</a>', panel)
    return {label.strip(): (int(count), url.replace("&amp;", "&")) for url, count, label in rows}


def a_waiting_archive():
    now = timezone.now()
    waiting = StoryPageFactory(parent=story_index(), title="Waiting story", live=False)
    waiting.save_revision()
    facilitator_review_workflow().start(waiting, user=None)
    reviewed = StoryPageFactory(parent=story_index(), title="Reviewed story")
    for number in range(4):
        media = StoryMedia.objects.create(file=f"r{number}.wav", size=1, sha256=f"{number}" * 64, container="wav")
        status = [Transcript.Status.FAILED, Transcript.Status.QUEUED, Transcript.Status.RUNNING, "done"][number]
        Transcript.objects.create(media=media, model_name="tiny.en", status=status)
        # A facilitator counts the recordings of their communities' stories (the fixture's works in every one).
        StoryPageFactory(parent=story_index(), title=f"Recorded story {number}", recording=media)
    CorrectionRequest.objects.create(story=reviewed, note="My name is spelt Aurelia.")
    CorrectionRequest.objects.create(story=reviewed, note="Fixed already.", resolved_at=now)
    Withdrawal.objects.create(
        story=reviewed,
        community=reviewed.community,
        story_id_removed=9001,
        requested_by=Withdrawal.RequestedBy.STORYTELLER,
    )
    last_month = now.replace(day=1) - datetime.timedelta(days=2)
    Withdrawal.objects.create(
        story=reviewed,
        community=reviewed.community,
        story_id_removed=9002,
        requested_by=Withdrawal.RequestedBy.STORYTELLER,
        withdrawn_at=last_month,
    )


def test_the_admin_home_counts_what_waits_for_the_facilitators(client, facilitator):
    a_waiting_archive()
    desk = client_for(facilitator)
    rows = dashboard(desk)
    for label, (_count, url) in rows.items():
        assert desk.get(url).status_code == 200, f"a facilitator may open {label}"
    assert {label: count for label, (count, _url) in rows.items()} == {
        "Submissions waiting for review": 1,
        "Transcripts failed": 1,
        "Transcripts waiting or running": 2,
        "Correction notes from storytellers, not yet resolved": 1,
        "Withdrawals this month": 1,
    }


def test_each_count_links_to_an_admin_list_showing_just_those(client, facilitator, admin_client):
    a_waiting_archive()
    rows = dashboard(admin_client)
    review = admin_client.get(rows["Submissions waiting for review"][1]).content.decode()
    assert "Waiting story" in review
    transcripts = admin_client.get(rows["Transcripts failed"][1])
    assert transcripts.status_code == 200
    assert "r0.wav" in transcripts.content.decode() or "Failed" in transcripts.content.decode()
    notes = admin_client.get(rows["Correction notes from storytellers, not yet resolved"][1])
    assert len(notes.context["object_list"]) == 1
    withdrawals = admin_client.get(rows["Withdrawals this month"][1])
    assert [w.story_id_removed for w in withdrawals.context["object_list"]] == [9001]


def test_the_dashboard_names_no_withdrawn_story(client, facilitator):
    """Counts only: a withdrawal this month is a number on the home page, never a title."""
    story = StoryPageFactory(parent=story_index(), title="Quokkabarrow withdrawn")
    Withdrawal.objects.create(
        story=story,
        community=story.community,
        story_id_removed=story.pk,
        requested_by=Withdrawal.RequestedBy.STORYTELLER,
    )
    html = client_for(facilitator).get(reverse("wagtailadmin_home")).content.decode()
    panel = html[html.index('id="review-dashboard-content"') :]
    panel = panel[: panel.index("</section>")] if "</section>" in panel else panel[:4000]
    assert "Quokkabarrow" not in panel
    assert dashboard(client_for(facilitator))["Withdrawals this month"][0] == 1
