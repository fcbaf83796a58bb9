"""The figures in Wagtail's Reports menu, for people with the figures permission (the Facilitators group has it)."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views
from .roles import FIGURES_PERMISSION

app_name = "audience_admin"
urlpatterns = [
    path("listening/", admin_views.listening, name="listening"),
    path("listening/story/<int:story_id>/", admin_views.story, name="story"),
    path("searches/", admin_views.searches, name="searches"),
]


@hooks.register("register_admin_urls")
def register_audience_urls():
    return [path("audience/", include((urlpatterns, app_name), namespace=app_name))]


class FiguresMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(FIGURES_PERMISSION)


@hooks.register("register_reports_menu_item")
def register_listening_report():
    return FiguresMenuItem(
        "Listening", reverse("audience_admin:listening"), name="audience-listening", icon_name="media", order=910
    )


@hooks.register("register_reports_menu_item")
def register_zero_result_searches_report():
    return FiguresMenuItem(
        "Searches that found nothing",
        reverse("audience_admin:searches"),
        name="audience-searches",
        icon_name="search",
        order=920,
    )
