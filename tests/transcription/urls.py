"""The project's URLs with transcription.urls included before Wagtail's catch-all, as storyarchive/urls.py should."""

from django.urls import include, path

from storyarchive.urls import handler404, handler500  # noqa: F401
from storyarchive.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("transcription.urls")), *project_urlpatterns]
