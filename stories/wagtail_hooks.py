"""The admin: the archive's own records (themes, communities, dialogues, people) and intake (invite links, consent
records, correction notes, withdrawals, and recording a withdrawal for a participant)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.home import WorkflowObjectsToModeratePanel
from wagtail.admin.widgets import Button
from wagtail.models import Page
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from .admin_records import ArchiveSnippetViewSet, WithinReachDeleteBulkAction, WithinReachSnippetViewSet
from .bulk_actions import page_bulk_actions_within_reach
from .documents import document_may_be_served
from .models import (
    Community,
    Consent,
    ContentNote,
    CorrectionRequest,
    Dialogue,
    Invite,
    Person,
    StoryPage,
    StorySubmission,
    Theme,
    Withdrawal,
)
from .permissions import PagesWithinReachPolicy, RecordsWithinReachPolicy, pages_within_reach, stories_for
from .review_dashboard import ReviewDashboardPanel
from .services import story_withdraw


class ShareLinkColumn(Column):
    """The full link a facilitator hands out, at the address the admin is being served at, with a copy button."""

    cell_template_name = "stories/admin/share_link_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        path = instance.get_absolute_url()
        if instance.is_usable:
            context["share_url"] = request.build_absolute_uri(path) if request else path
        return context


class WithdrawalAuditPolicy(RecordsWithinReachPolicy):
    """Anyone who may view the audit may only view it: no add, edit or delete, for administrators too; a facilitator
    sees the withdrawals of their communities' stories."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)


# Each community record is Wagtail's to show a user only within their communities (stories/permissions.py).
for _model in (Community, Invite, Dialogue, Person, Consent, CorrectionRequest, StorySubmission):
    register_permission_policy(_model, RecordsWithinReachPolicy(_model))
register_permission_policy(Withdrawal, WithdrawalAuditPolicy(Withdrawal), exact_class=True)
# Every page listing that asks Wagtail which pages a user may explore or act on leaves out other communities' stories.
register_permission_policy(Page, PagesWithinReachPolicy())
# Deleting community records in bulk names and acts on none outside the user's reach; after Wagtail's, in its place.
hooks.register("register_bulk_action", WithinReachDeleteBulkAction, order=1)


class InviteViewSet(WithinReachSnippetViewSet):
    model = Invite
    icon = "link"
    menu_label = "Invite links"
    list_display = ["__str__", "community", "dialogue", "expires_at", "use_count", "max_uses", ShareLinkColumn("link")]
    list_filter = ["community", "revoked"]


class ConsentViewSet(WithinReachSnippetViewSet):
    model = Consent
    icon = "tick-inverse"
    menu_label = "Consent records"
    list_display = ["person", "story", "method", "scope", "guardian_name", "given_at", "withdrawn_at"]
    list_filter = ["method", "scope"]


class CorrectionRequestViewSet(WithinReachSnippetViewSet):
    model = CorrectionRequest
    icon = "edit"
    menu_label = "Correction notes"
    list_display = ["story", "created_at", "resolved_at"]
    list_filter = {"resolved_at": ["isnull"]}


class WithdrawalViewSet(WithinReachSnippetViewSet):
    """Read-only: an audit trail is written by the withdrawal service, never edited by hand."""

    model = Withdrawal
    icon = "warning"
    menu_label = "Withdrawals"
    list_display = ["story_id_removed", "requested_by", "participant_role", "recorded_by", "withdrawn_at"]
    list_filter = {"withdrawn_at": ["gte"]}
    inspect_view_enabled = True
    add_to_admin_menu = False


class IntakeViewSetGroup(SnippetViewSetGroup):
    items = (InviteViewSet, ConsentViewSet, CorrectionRequestViewSet, WithdrawalViewSet)
    menu_icon = "folder-open-inverse"
    menu_label = "Intake"
    menu_name = "intake"


register_snippet(IntakeViewSetGroup)


class ThemeViewSet(ArchiveSnippetViewSet):
    model = Theme
    icon = "tag"
    list_display = ["name", "slug", "description"]
    search_fields = ["name"]


class ContentNoteViewSet(ArchiveSnippetViewSet):
    """Administrators keep the list; facilitators may only read it, and choose from it on each story."""

    model = ContentNote
    icon = "warning"
    menu_label = "Content notes"
    list_display = ["name", "description"]
    search_fields = ["name"]


class CommunityViewSet(WithinReachSnippetViewSet):
    model = Community
    icon = "site"
    list_display = ["name", "place"]
    search_fields = ["name", "place"]


class DialogueViewSet(WithinReachSnippetViewSet):
    model = Dialogue
    icon = "group"
    list_display = ["title", "date", "community", "place"]
    list_filter = ["community"]
    search_fields = ["title"]


class PersonViewSet(WithinReachSnippetViewSet):
    """Full names and birth years are seen here by editors only; the public sees display names."""

    model = Person
    icon = "user"
    menu_label = "People"
    list_display = ["display_name", "full_name", "birth_year", "community"]
    list_filter = ["community"]
    search_fields = ["display_name", "full_name"]


class ArchiveViewSetGroup(SnippetViewSetGroup):
    items = (ThemeViewSet, ContentNoteViewSet, CommunityViewSet, DialogueViewSet, PersonViewSet)
    menu_icon = "folder-inverse"
    menu_label = "Archive"
    menu_name = "archive"


register_snippet(ArchiveViewSetGroup)


@hooks.register("construct_homepage_panels")
def review_dashboard(request, panels):
    panels.insert(0, ReviewDashboardPanel())


@hooks.register("after_create_snippet")
def invite_set_creator(request, instance):
    if isinstance(instance, Invite) and instance.created_by_id is None:
        Invite.objects.filter(pk=instance.pk).update(created_by=request.user)


@hooks.register("construct_explorer_page_queryset")
def explorer_within_reach(parent_page, pages, request):
    """The explorer and its search list only the stories of the user's communities (stories/permissions.py)."""
    return pages_within_reach(pages, request.user)


@hooks.register("construct_page_chooser_queryset")
def chooser_within_reach(pages, request):
    """A page chooser (a collection's stories, say) offers only the stories of the user's communities."""
    return pages_within_reach(pages, request.user)


# A bulk action (publish, unpublish, delete, move) on the pages chosen, or on all of a listing, names, counts and acts
# on no story outside the user's reach; registered after Wagtail's, each takes the place of Wagtail's own.
for _action in page_bulk_actions_within_reach():
    hooks.register("register_bulk_action", _action, order=1)


class StoriesToModeratePanel(WorkflowObjectsToModeratePanel):
    """Wagtail's "Awaiting your review" without the stories outside the user's communities: the review task belongs
    to the whole Facilitators group, each story to its community's."""

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        listed = Page.objects.filter(pk__in=[state["obj"].pk for state in context["states"]])
        shown = set(pages_within_reach(listed, parent_context["request"].user).values_list("pk", flat=True))
        context["states"] = [
            state for state in context["states"] if not isinstance(state["obj"], Page) or state["obj"].pk in shown
        ]
        return context


@hooks.register("construct_homepage_panels")
def moderation_within_reach(request, panels):
    panels[:] = [
        StoriesToModeratePanel() if type(panel) is WorkflowObjectsToModeratePanel else panel for panel in panels
    ]


# Recording a withdrawal for a participant ---------------------------------------------------------------------------


class RecordWithdrawalForm(forms.Form):
    participant = forms.ModelChoiceField(
        queryset=Person.objects.none(), label="Who asked to withdraw", empty_label="Choose the participant"
    )
    confirm = forms.BooleanField(
        label="Withdraw the story now. The recording, access copies, captions and transcript are deleted for good."
    )

    def __init__(self, *args, story: StoryPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = Person.objects.filter(participations__page=story)


def record_withdrawal(request, page_id):
    story = get_object_or_404(stories_for(request.user), pk=page_id)
    permissions = story.permissions_for_user(request.user)
    if not (permissions.can_edit() and (permissions.can_unpublish() or not story.live)):
        raise PermissionDenied
    form = RecordWithdrawalForm(request.POST or None, story=story)
    if request.method == "POST" and form.is_valid():
        story_withdraw(
            story=story,
            requested_by=Withdrawal.RequestedBy.FACILITATOR,
            user=request.user,
            participant=form.cleaned_data["participant"],
        )
        messages.success(request, "The story was withdrawn and its recording and transcript deleted.")
        return redirect("wagtailadmin_explore", story.get_parent().pk)
    return TemplateResponse(
        request,
        "stories/admin/record_withdrawal.html",
        {"story": story, "form": form, "now": timezone.now()},
    )


@hooks.register("register_admin_urls")
def withdrawal_urls():
    return [path("stories/<int:page_id>/withdraw/", record_withdrawal, name="stories_record_withdrawal")]


@hooks.register("register_page_header_buttons")
def withdrawal_button(page, user, view_name, next_url=None):
    if isinstance(page.specific_deferred, StoryPage) and not page.specific_deferred.withdrawn_at:
        if page.permissions_for_user(user).can_edit():
            yield Button(
                "Record a withdrawal",
                url=reverse("stories_record_withdrawal", args=[page.pk]),
                icon_name="warning",
                priority=90,
            )


@hooks.register("before_serve_document")
def documents_private_unless_a_public_page_links_them(document, request):
    """A document (a signed consent form, say) is not found by anyone its rule does not let in."""
    if not document_may_be_served(document, request.user):
        raise Http404("No document here.")


# Requests for access to stories on request: a list with approve, decline and revoke, for those who answer them.


@hooks.register("register_admin_urls")
def register_access_request_urls():
    from django.urls import include

    from .access_requests import admin_views

    urlpatterns = [
        path("", admin_views.access_request_list, name="list"),
        path("<int:request_id>/approve/", admin_views.access_request_approve_view, name="approve"),
        path("<int:request_id>/decline/", admin_views.access_request_decline_view, name="decline"),
        path("<int:request_id>/revoke/", admin_views.access_link_revoke_view, name="revoke"),
    ]
    return [path("access-requests/", include((urlpatterns, "stories_access"), namespace="stories_access"))]


class AccessRequestsMenuItem(MenuItem):
    def is_shown(self, request):
        from .access_requests import answers_requests

        return answers_requests(request.user)


@hooks.register("register_admin_menu_item")
def register_access_requests_menu_item():
    return AccessRequestsMenuItem(
        "Requests for access", reverse("stories_access:list"), icon_name="lock-open", order=450
    )
