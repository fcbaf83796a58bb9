"""Facilitators work within their own communities: the admin's dashboard, bulk actions, review e-mails and reports
name and count only the stories of the user's communities. Per role: a facilitator of A (the control, who sees A's
story), a facilitator of B (who must learn nothing of it), an administrator (everything), anonymous (sent to sign in).
"""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import Page, WorkflowState

from audience.models import StoryListeningDay
from audience.roles import grant_facilitators_figures
from stories.factories import CommunityFactory, ConsentFactory, StoryPageFactory, story_index
from stories.models import CorrectionRequest, StoryMedia, Withdrawal
from stories.services.review import facilitator_review_workflow
from tests.responses import body_text
from transcription.models import Transcript

from .test_facilitator_communities import get, make_facilitator

TITLE = "Quillfeather orchard"
DRAFT_TITLE = "Quillfeather kettle"
B_TITLE = "River mill"
B_DRAFT = "River ford"
# More of A's stories than the admin's page listing shows on one page (Wagtail's explorer pages at 50).
LISTING_PAGE = 50
A_DRAFTS = LISTING_PAGE + 5
PLAYS = 4817


@pytest.fixture
def archive(django_user_model, admin_user):
    """Community A: more drafts than a listing page, and a live story in review with a failed transcript, a correction
    note, a consent, a lock, a withdrawal and listening figures (made last, so it heads lists by date); community B:
    one live story, one draft."""
    a, b = CommunityFactory(name="Elm Street"), CommunityFactory(name="Riverside")
    drafts = [StoryPageFactory(title=f"Elm draft {n:02}", community=a, live=False) for n in range(A_DRAFTS - 1)]
    drafts.append(StoryPageFactory(title=DRAFT_TITLE, community=a, live=False))
    mill = StoryPageFactory(title=B_TITLE, community=b)
    mill.save_revision(user=admin_user).publish(user=admin_user)
    ford = StoryPageFactory(title=B_DRAFT, community=b, live=False)
    media = StoryMedia.objects.create(file="orchard.wav", size=1, sha256="a" * 64, container="wav")
    Transcript.objects.create(media=media, model_name="tiny.en", status=Transcript.Status.FAILED)
    story = StoryPageFactory(title=TITLE, community=a, recording=media)
    story.save_revision(user=admin_user).publish(user=admin_user)
    workflow_state = facilitator_review_workflow().start(story, admin_user)
    consent = ConsentFactory(story=story)
    log(instance=consent, action="wagtail.edit", user=admin_user)
    CorrectionRequest.objects.create(story=story, note="My name is spelt Aurelia.")
    Withdrawal.objects.create(
        story=story, community=a, story_id_removed=story.pk, requested_by=Withdrawal.RequestedBy.STORYTELLER
    )
    StoryListeningDay.objects.create(story=story, day=timezone.localdate(), plays=PLAYS, stretches_heard=9)
    Page.objects.filter(pk=story.pk).update(locked=True, locked_by=admin_user, locked_at=timezone.now())
    of_a = make_facilitator(django_user_model, "facilitator-of-a", a)
    of_b = make_facilitator(django_user_model, "facilitator-of-b", b)
    grant_facilitators_figures()
    return {
        "a": a,
        "b": b,
        "story": story,
        "workflow_state": workflow_state,
        "drafts": drafts,
        "mill": mill,
        "ford": ford,
        "of_a": of_a,
        "of_b": of_b,
        "administrator": admin_user,
    }


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return body_text(response)


def refused_without_title(response, title=TITLE) -> bool:
    """Refused (Wagtail sends whoever lacks a report's permission to the dashboard), naming nothing."""
    return response.status_code in (302, 403, 404) and title not in response.content.decode()


# The review dashboard ----------------------------------------------------------------------------------------------


def dashboard(client, user) -> dict[str, tuple[int, str]]:
    """The panel's rows as its reader sees them: label -> (count, link)."""
    html = page_text(get(client, user, reverse("wagtailadmin_home")))
    panel = html[html.index('id="review-dashboard-content"') :]
    panel = panel[: panel.index("</ul>")]
    rows = re.findall(r'<a href="([^"]+)"><strong>(\d+)</strong> ([^<]+)</a>', panel)
    return {label.strip(): (int(count), url.replace("&amp;", "&")) for url, count, label in rows}


def test_the_dashboard_counts_only_the_facilitators_own_communities(client, archive):
    """Negative test: B's facilitator counts none of A's submission, failed transcript, correction note or
    withdrawal; A's facilitator and the administrator count each one (the control)."""
    of_b = {label: count for label, (count, _url) in dashboard(client, archive["of_b"]).items()}
    of_a = {label: count for label, (count, _url) in dashboard(client, archive["of_a"]).items()}
    administrator = {label: count for label, (count, _url) in dashboard(client, archive["administrator"]).items()}

    counted = {
        "Submissions waiting for review": 1,
        "Transcripts failed": 1,
        "Transcripts waiting or running": 0,
        "Correction notes from storytellers, not yet resolved": 1,
        "Withdrawals this month": 1,
    }
    assert of_b == dict.fromkeys(counted, 0)
    assert of_a == counted
    assert administrator == counted


def test_the_dashboards_review_link_lists_what_it_counts(client, archive):
    """The count is a link: A's facilitator finds the story there; B's finds no story and no title."""
    link = dashboard(client, archive["of_a"])["Submissions waiting for review"][1]
    assert TITLE in page_text(get(client, archive["of_a"], link)), "control"
    assert TITLE not in page_text(get(client, archive["of_b"], link))

    failed = dashboard(client, archive["of_a"])["Transcripts failed"][1]
    assert TITLE in page_text(get(client, archive["of_a"], failed)), "control"
    assert TITLE not in page_text(get(client, archive["of_b"], failed))


@pytest.mark.parametrize("label", ["Correction notes from storytellers, not yet resolved", "Withdrawals this month"])
def test_the_dashboards_record_links_list_as_many_as_they_count(client, archive, label):
    """The correction notes and withdrawals behind each count: none for B's facilitator, A's one for A's."""
    for role, expected in (("of_b", 0), ("of_a", 1), ("administrator", 1)):
        count, link = dashboard(client, archive[role])[label]
        listed = get(client, archive[role], link)
        assert listed.status_code == 200
        assert count == len(listed.context["object_list"]) == expected, role


def test_anonymous_visitors_are_sent_to_sign_in_from_the_dashboard(client, archive):
    response = get(client, None, reverse("wagtailadmin_home"))

    assert response.status_code == 302 and response.url.startswith("/admin/login/")


# Bulk actions: "select all" in a listing, then an action -----------------------------------------------------------

ACTIONS = ["publish", "unpublish", "delete", "move"]


def select_all(action, parent) -> str:
    query = urlencode({"id": "all", "childOf": parent.pk, "next": f"/admin/pages/{parent.pk}/"})
    return f"/admin/bulk/wagtailcore/page/{action}/?{query}"


@pytest.mark.parametrize("action", ACTIONS)
def test_select_all_then_an_action_names_no_story_of_another_community(client, archive, action):
    """Negative test: Wagtail's confirmation listed every other community's story among "items you don't have access
    to"; B's facilitator sees B's stories only. A's facilitator's confirmation is the control, and lists more of A's
    stories than one page of the listing holds."""
    url = select_all(action, story_index())

    of_b = page_text(get(client, archive["of_b"], url))
    assert TITLE not in of_b and DRAFT_TITLE not in of_b and "Elm draft" not in of_b
    assert B_TITLE in of_b, "control: the page lists B's own story"

    of_a = page_text(get(client, archive["of_a"], url))
    assert TITLE in of_a and DRAFT_TITLE in of_a
    assert len(re.findall(r"Elm draft \d\d", of_a)) == A_DRAFTS - 1 > LISTING_PAGE
    assert B_TITLE not in of_a

    administrator = page_text(get(client, archive["administrator"], url))
    assert TITLE in administrator and B_TITLE in administrator


@pytest.mark.parametrize("action", ACTIONS)
def test_a_bulk_action_sends_anonymous_visitors_to_sign_in(client, archive, action):
    response = get(client, None, select_all(action, story_index()))

    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert TITLE not in response.content.decode()


def test_a_bulk_action_counts_no_unpublished_story_of_another_community(client, archive):
    """Negative test: publishing all of the home page's listing said how many unpublished subpages the story index has,
    A's drafts among them. The story index is the administrators' to publish (stories/permissions.py): a facilitator
    of either community is offered nothing to publish and told of no count; the administrator of every draft (the
    control)."""
    url = select_all("publish", story_index().get_parent())

    for facilitator in (archive["of_b"], archive["of_a"]):
        text = page_text(get(client, facilitator, url))
        assert "You don't have permission to publish" in text
        assert "unpublished subpage" not in text
    assert f"This page has {A_DRAFTS + 1} unpublished subpages" in page_text(get(client, archive["administrator"], url))


def test_publishing_all_of_a_listing_publishes_no_story_of_another_community(client, archive):
    """Negative test: B's facilitator publishes B's draft (the control) and none of A's."""
    client.force_login(archive["of_b"])

    response = client.post(select_all("publish", story_index()), {"include_descendants": ""})

    assert response.status_code == 302
    archive["ford"].refresh_from_db()
    assert archive["ford"].live, "control: B's own draft is published"
    assert not Page.objects.filter(pk__in=[draft.pk for draft in archive["drafts"]], live=True).exists()


def test_every_page_bulk_action_wagtail_offers_is_within_reach():
    """A page bulk action registered later (by Wagtail or an app) must leave out the stories outside the reach too."""
    from wagtail.admin.views.bulk_action.registry import bulk_action_registry

    from stories.bulk_actions import WithinReachBulkAction

    actions = list(bulk_action_registry.get_bulk_actions_for_model("wagtailcore", "page"))

    assert {action.action_type for action in actions} == set(ACTIONS)
    assert all(issubclass(action, WithinReachBulkAction) for action in actions)


# Review e-mails ----------------------------------------------------------------------------------------------------


def recipients_naming(mailoutbox, title) -> set[str]:
    return {address for message in mailoutbox if title in message.subject + message.body for address in message.to}


def test_a_submission_is_e_mailed_to_its_communitys_facilitators_only(client, archive, mailoutbox):
    """Negative test: Wagtail e-mails the review task's whole group; B's facilitator is not told of A's story. A's
    facilitator and the administrator are (the control)."""
    draft = archive["drafts"][-1]
    draft.save_revision(user=archive["of_a"])

    facilitator_review_workflow().start(draft, archive["of_a"])

    told = recipients_naming(mailoutbox, DRAFT_TITLE)
    assert archive["of_b"].email not in told
    assert archive["administrator"].email in told, "control: the administrator is told"
    assert all(archive["of_b"].email not in message.to for message in mailoutbox)


def test_a_submission_by_someone_else_reaches_the_communitys_facilitator(archive, mailoutbox):
    """The control for the group's e-mail: submitted by the administrator, A's facilitator is told, B's is not."""
    draft = archive["drafts"][0]
    draft.save_revision(user=archive["administrator"])

    facilitator_review_workflow().start(draft, archive["administrator"])

    told = recipients_naming(mailoutbox, draft.title)
    assert archive["of_a"].email in told
    assert archive["of_b"].email not in told


def test_an_approval_is_e_mailed_to_the_submitter_within_reach(archive, mailoutbox):
    """The approval goes to whoever submitted, A's facilitator here (the control), and to nobody in B."""
    draft = archive["drafts"][1]
    draft.save_revision(user=archive["of_a"])
    state = facilitator_review_workflow().start(draft, archive["of_a"])
    mailoutbox.clear()

    state.current_task_state.task.specific.on_action(state.current_task_state, archive["administrator"], "approve")

    assert WorkflowState.objects.get(pk=state.pk).status == WorkflowState.STATUS_APPROVED
    told = recipients_naming(mailoutbox, draft.title)
    assert archive["of_a"].email in told
    assert archive["of_b"].email not in told


def test_a_facilitator_moved_out_of_the_community_is_not_told_of_the_approval(archive, mailoutbox):
    """Negative test: the submitter who no longer works in A learns nothing more of A's story."""
    draft = archive["drafts"][2]
    draft.save_revision(user=archive["of_a"])
    state = facilitator_review_workflow().start(draft, archive["of_a"])
    archive["a"].facilitators.remove(archive["of_a"])
    mailoutbox.clear()

    state.current_task_state.task.specific.on_action(state.current_task_state, archive["administrator"], "approve")

    assert archive["of_a"].email not in recipients_naming(mailoutbox, draft.title)


# Reports -----------------------------------------------------------------------------------------------------------

REPORTS = {
    "aging pages": "/admin/reports/aging-pages/",
    "aging pages, exported": "/admin/reports/aging-pages/?export=csv",
    "site history": "/admin/reports/site-history/",
    "site history, exported": "/admin/reports/site-history/?export=csv",
    "site history's results": "/admin/reports/site-history/results/",
    "workflows": "/admin/reports/workflow/",
    "workflows, exported": "/admin/reports/workflow/?export=csv",
    "workflow tasks": "/admin/reports/workflow_tasks/",
    "workflow tasks, exported": "/admin/reports/workflow_tasks/?export=csv",
    "page types usage": "/admin/reports/page-types-usage/",
    "page types usage's results": "/admin/reports/page-types-usage/results/",
    "transcripts failed and pending": "/admin/transcription/unfinished/",
    "listening": "/admin/audience/listening/",
}
# Wagtail shows locked pages to those who may unlock them, which facilitators may not: administrators only.
ADMINISTRATORS_REPORTS = {
    "locked pages": "/admin/reports/locked/",
    "locked pages, exported": "/admin/reports/locked/?export=csv",
}


@pytest.mark.parametrize("name", REPORTS)
def test_a_report_names_no_story_of_another_community(client, archive, name):
    """Negative test: B's facilitator reads no title of A's story; A's facilitator and the administrator do."""
    url = REPORTS[name]

    assert TITLE not in page_text(get(client, archive["of_b"], url))
    assert TITLE in page_text(get(client, archive["of_a"], url)), "control: A's facilitator finds it"
    assert TITLE in page_text(get(client, archive["administrator"], url))


@pytest.mark.parametrize("name", ADMINISTRATORS_REPORTS)
def test_an_administrators_report_names_no_story_to_a_facilitator(client, archive, name):
    url = ADMINISTRATORS_REPORTS[name]

    assert refused_without_title(get(client, archive["of_b"], url))
    assert refused_without_title(get(client, archive["of_a"], url))
    assert TITLE in page_text(get(client, archive["administrator"], url)), "control: the administrator finds it"


def test_site_history_names_no_record_of_another_communitys_story(client, archive):
    """Negative test: a consent's entry is labelled with its story's title; B's facilitator, who may view consent
    records, does not read A's, and A's facilitator does (the control)."""
    url = REPORTS["site history's results"]
    label = f"for “{TITLE}”"

    assert label not in page_text(get(client, archive["of_b"], url))
    assert label in page_text(get(client, archive["of_a"], url))


@pytest.mark.parametrize("name", {**REPORTS, **ADMINISTRATORS_REPORTS})
def test_a_report_sends_anonymous_visitors_to_sign_in(client, archive, name):
    response = get(client, None, {**REPORTS, **ADMINISTRATORS_REPORTS}[name])

    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert TITLE not in response.content.decode()


def story_pages_counted(html) -> int:
    """The page types usage report's count of stories, as its row reads: "Story stories.storypage 56 ..."."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return int(re.search(r"Story stories\.storypage (\d+)", text).group(1))


def test_page_types_usage_counts_no_story_of_another_community(client, archive):
    """Negative test: B's facilitator counts B's two stories, not A's; A's facilitator counts A's (the control)."""
    url = REPORTS["page types usage's results"]

    assert story_pages_counted(page_text(get(client, archive["of_b"], url))) == 2
    assert story_pages_counted(page_text(get(client, archive["of_a"], url))) == 1 + A_DRAFTS
    assert story_pages_counted(page_text(get(client, archive["administrator"], url))) == 3 + A_DRAFTS


def test_the_listening_report_counts_no_play_of_another_community(client, archive):
    """Negative test: A's plays are not in B's figures, nor is A's community named; they are in A's (the control)."""
    url = REPORTS["listening"]

    of_b = page_text(get(client, archive["of_b"], url))
    of_a = page_text(get(client, archive["of_a"], url))

    assert "Elm Street" not in of_b and str(PLAYS) not in of_b
    assert "Elm Street" in of_a and f"{PLAYS} plays" in of_a, "control"


def test_a_storys_listening_figures_are_for_its_communitys_facilitators(client, archive):
    """Negative test: the heat strip of A's story answers B's facilitator as a missing story does."""
    url = reverse("audience_admin:story", args=[archive["story"].pk])

    refused = get(client, archive["of_b"], url)
    assert refused.status_code == 404 and TITLE not in refused.content.decode()
    assert get(client, archive["of_b"], reverse("audience_admin:story", args=[987654])).status_code == 404
    assert TITLE in page_text(get(client, archive["of_a"], url)), "control"
    assert TITLE in page_text(get(client, archive["administrator"], url))
