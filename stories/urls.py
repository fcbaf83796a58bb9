from django.urls import path, re_path
from wagtail import views as wagtail_views

from . import embed, serving, site_files, views
from .access_requests import views as access
from .share import views as share

app_name = "stories"

urlpatterns = [
    path("communities/", views.community_index, name="communities"),
    path("communities/<slug:slug>/", views.community_detail, name="community"),
    path("themes/", views.theme_index, name="themes"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme"),
    path("collections/", views.collection_index, name="collections"),
    path("dialogues/", views.dialogue_index, name="dialogues"),
    path("dialogues/<slug:slug>/", views.dialogue_detail, name="dialogue"),
    path("embed/stories/<int:story_id>/", embed.story_embed, name="embed"),
    path("robots.txt", site_files.robots_txt, name="robots"),
    path("favicon.ico", site_files.favicon, name="favicon"),
    path("recordings/<uuid:media_id>/<str:variant>", serving.recording_file, name="recording"),
    path("share/sent/", share.share_sent, name="share-sent"),
    path("share/<str:token>/", share.share, name="share"),
    path("share/<str:token>/uploads/", share.share_upload_start, name="share-uploads"),
    path("share/<str:token>/uploads/<uuid:upload_id>/", share.share_upload, name="share-upload"),
    path(
        "share/<str:token>/uploads/<uuid:upload_id>/recording",
        share.share_upload_recording,
        name="share-upload-recording",
    ),
    path("request-access/<int:story_id>/", access.request_access, name="access-request"),
    path("request-access/<int:story_id>/sent/", access.request_sent, name="access-request-sent"),
    path("access/<str:token>/", access.access_link, name="access-link"),
    path("access/<str:token>/recording", access.access_link_recording, name="access-link-recording"),
    path("my-story/<str:token>/", share.my_story, name="my-story"),
    path("my-story/<str:token>/recording", share.my_story_recording, name="my-story-recording"),
    path("my-story/<str:token>/transcript.txt", share.my_story_transcript, name="my-story-transcript"),
    # chapters.json at a story's own address, through Wagtail's serve view, as transcription/urls.py routes
    # transcript.vtt: StoryPage.serve applies the visibility rule, then calls the view registered in stories.routes.
    re_path(r"^((?:[\w\-]+/)+chapters\.json)$", wagtail_views.serve, name="story-chapters-file"),
]
