from django.urls import path

from . import views

app_name = "iiif"

urlpatterns = [
    path("stories/<int:story_id>/manifest.json", views.story_manifest_view, name="story-manifest"),
    path("collections/<int:collection_id>/manifest.json", views.collection_manifest_view, name="collection-manifest"),
]
