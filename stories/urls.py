from django.urls import path

from . import serving, views

app_name = "stories"

urlpatterns = [
    path("communities/<slug:slug>/", views.community_detail, name="community"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme"),
    path("recordings/<uuid:media_id>/<str:variant>", serving.recording_file, name="recording"),
]
