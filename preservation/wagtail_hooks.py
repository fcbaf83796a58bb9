"""The admin's "Export a preservation bag" on a story and a collection: facilitators who may edit it ask for a bag,
watch the worker write it, download it as a tar file and delete it. Never public: every view is under /admin/."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.widgets import Button

from stories.models import CollectionPage, StoryPage
from stories.permissions import page_within_reach

from .archives import tar_stream
from .models import BagExport
from .selectors import NothingToBag, bag_selection
from .services import bag_export_delete, bag_export_request, bag_root


class BagForm(forms.Form):
    include_not_public = forms.BooleanField(
        required=False,
        label="Include stories the public may not see, on purpose (the bag will say so)",
    )


def _page_for_bag(page_id: int, user):
    page = StoryPage.objects.filter(pk=page_id).first() or CollectionPage.objects.filter(pk=page_id).first()
    # Outside the user's communities, a page answers as a missing one does: a refusal would tell that it exists.
    if page is None or not page_within_reach(user, page):
        raise Http404("Nothing to bag here.")
    if not page.permissions_for_user(user).can_edit():
        raise PermissionDenied
    return page


def bag_request(request, page_id):
    page = _page_for_bag(page_id, request.user)
    is_story = isinstance(page, StoryPage)
    form = BagForm(request.POST if request.method == "POST" else None)
    try:
        public_only = bag_selection(
            story_id=page.pk if is_story else None, collection_slug=None if is_story else page.slug
        )
    except NothingToBag:
        public_only = None
    if request.method == "POST" and form.is_valid():
        export = bag_export_request(
            user=request.user,
            story=page if is_story else None,
            collection=None if is_story else page,
            include_not_public=form.cleaned_data["include_not_public"],
        )
        return redirect("preservation_bag", export.pk)
    return TemplateResponse(
        request,
        "preservation/admin/bag_request.html",
        {"page": page, "form": form, "public_only": public_only, "withdrawn": is_story and page.withdrawn_at},
    )


def _own_export(request, export_id) -> BagExport:
    export = get_object_or_404(BagExport, pk=export_id)
    if not (request.user.is_superuser or export.requested_by_id == request.user.pk):
        raise PermissionDenied
    return export


def bag_status(request, export_id):
    export = _own_export(request, export_id)
    return TemplateResponse(request, "preservation/admin/bag_status.html", {"export": export})


def bag_download(request, export_id):
    export = _own_export(request, export_id)
    if export.status != BagExport.Status.DONE or not export.folder:
        raise Http404("This bag is not ready.")
    folder = bag_root() / export.folder
    if not folder.is_dir():
        raise Http404("This bag is gone.")
    response = StreamingHttpResponse(tar_stream(folder), content_type="application/x-tar")
    response["Content-Disposition"] = content_disposition_header(True, f"{export.folder}.tar")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def bag_delete(request, export_id):
    export = _own_export(request, export_id)
    bag_export_delete(export=export, reason="Deleted by a facilitator.")
    messages.success(request, "The bag was deleted from the server.")
    return redirect("preservation_bag", export.pk)


@hooks.register("register_admin_urls")
def bag_urls():
    return [
        path("preservation/pages/<int:page_id>/bag/", bag_request, name="preservation_bag_request"),
        path("preservation/bags/<int:export_id>/", bag_status, name="preservation_bag"),
        path("preservation/bags/<int:export_id>/download/", bag_download, name="preservation_bag_download"),
        path("preservation/bags/<int:export_id>/delete/", bag_delete, name="preservation_bag_delete"),
    ]


@hooks.register("register_page_header_buttons")
def bag_button(page, user, view_name, next_url=None):
    specific = page.specific_deferred
    if isinstance(specific, StoryPage) and specific.withdrawn_at:
        return
    if isinstance(specific, StoryPage | CollectionPage) and page.permissions_for_user(user).can_edit():
        yield Button(
            "Export a preservation bag",
            url=reverse("preservation_bag_request", args=[page.pk]),
            icon_name="download",
            priority=95,
        )
