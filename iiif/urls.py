from django.urls import path

from . import views

app_name = "iiif"

urlpatterns = [
    path("stories/<str:story_id>/manifest.json", views.story_manifest_view, name="story-manifest"),
    path("collections/<str:collection_id>/manifest.json", views.collection_manifest_view, name="collection-manifest"),
]
