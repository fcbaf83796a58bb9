"""The transcription admin: a button on every story with a recording, its transcript page, and a report."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.menus.pages import PageMenuItem

from stories.models import StoryPage

from . import admin_views

app_name = "transcription_admin"
urlpatterns = [
    path("story/<int:page_id>/", admin_views.story_transcripts, name="story"),
    path("story/<int:page_id>/retranscribe/", admin_views.story_retranscribe, name="retranscribe"),
    path("story/<int:page_id>/upload/", admin_views.story_transcript_upload, name="upload"),
    path("story/<int:page_id>/<int:transcript_id>/correct/", admin_views.transcript_correct, name="correct"),
    path("story/<int:page_id>/<int:transcript_id>/change/", admin_views.transcript_change, name="change"),
    path("story/<int:page_id>/<int:transcript_id>/retry/", admin_views.transcript_retry, name="retry"),
    path("story/<int:page_id>/<int:transcript_id>/current/", admin_views.transcript_make_current, name="current"),
    path("story/<int:page_id>/redactions/", admin_views.story_redactions, name="redactions"),
    path("story/<int:page_id>/redactions/<int:redaction_id>/undo/", admin_views.redaction_undo, name="redaction-undo"),
    path("story/<int:page_id>/redactions/try-again/", admin_views.redaction_remake_retry, name="redaction-try-again"),
    path("story/<int:page_id>/written-redactions/", admin_views.story_written_redactions, name="written-redactions"),
    path(
        "story/<int:page_id>/written-redactions/<int:redaction_id>/undo/",
        admin_views.written_redaction_undo,
        name="written-redaction-undo",
    ),
    path("unfinished/", admin_views.unfinished_report, name="unfinished"),
]


@hooks.register("register_admin_urls")
def register_transcription_urls():
    return [path("transcription/", include((urlpatterns, app_name), namespace=app_name))]


class TranscriptButton(PageMenuItem):
    icon_name = "doc-full"
    priority = 25

    def __init__(self, *, page, **kwargs):
        super().__init__(
            label=admin_views.processing_label(page),
            url=reverse("transcription_admin:story", args=[page.pk]),
            page=page,
            **kwargs,
        )

    def is_shown(self, user):
        return self.page.permissions_for_user(user).can_edit()


def _transcript_button(page, next_url=None):
    specific = page.specific_deferred if hasattr(page, "specific_deferred") else page.specific
    if isinstance(specific, StoryPage) and specific.recording_id:
        yield TranscriptButton(page=specific, next_url=next_url)


@hooks.register("register_page_header_buttons")
def story_header_transcript_button(page, user, view_name, next_url=None):
    yield from _transcript_button(page, next_url)


class WrittenRedactionsButton(PageMenuItem):
    icon_name = "doc-full"
    priority = 26

    def __init__(self, *, page, **kwargs):
        super().__init__(
            label="Redact written text",
            url=reverse("transcription_admin:written-redactions", args=[page.pk]),
            page=page,
            **kwargs,
        )

    def is_shown(self, user):
        return self.page.permissions_for_user(user).can_edit()


@hooks.register("register_page_header_buttons")
def story_header_written_redactions_button(page, user, view_name, next_url=None):
    specific = page.specific_deferred if hasattr(page, "specific_deferred") else page.specific
    if isinstance(specific, StoryPage) and specific.body:
        yield WrittenRedactionsButton(page=specific, next_url=next_url)


@hooks.register("register_page_listing_more_buttons")
def story_listing_transcript_button(page, user, next_url=None):
    yield from _transcript_button(page, next_url)


class UnfinishedReportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("wagtailadmin.access_admin")


@hooks.register("register_reports_menu_item")
def register_unfinished_transcripts_report():
    return UnfinishedReportMenuItem(
        "Transcripts: failed and pending",
        reverse("transcription_admin:unfinished"),
        name="transcripts-unfinished",
        icon_name="doc-full",
        order=900,
    )
