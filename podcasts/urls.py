from django.urls import path

from . import views

app_name = "podcasts"

urlpatterns = [
    path("communities/<slug:slug>/feed.xml", views.community_feed, name="community"),
    path("themes/<slug:slug>/feed.xml", views.theme_feed, name="theme"),
    path("collections/<slug:slug>/feed.xml", views.collection_feed, name="collection"),
]
