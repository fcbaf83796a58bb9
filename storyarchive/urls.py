from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from .api import api, unknown_address

API_PREFIX = "api/"

handler404 = "stories.views.page_not_found"
handler500 = "stories.views.server_error"

urlpatterns = [
    path("django-admin/", admin.site.urls),
    # Two of Wagtail's reports, at their own addresses, counting and naming only what is within the user's reach.
    path("admin/reports/", include("stories.reports")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path(API_PREFIX, api.urls),
    # Under /api/, an address no router answers is JSON too, and one with a trailing slash goes to the one without.
    re_path(rf"^{API_PREFIX}", unknown_address),
    path("", include("stories.sitemaps")),
    path("", include("stories.urls")),
    path("", include("iiif.urls")),
    path("oai/", include("oai.urls")),
    path("", include("podcasts.urls")),
    path("search/", include("search.urls")),
    path("insights/", include("insights.urls")),
    path("", include("audience.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    # Public images only; recordings live under PRIVATE_MEDIA_ROOT and are served by stories.views, and documents
    # (MEDIA_ROOT/documents) only through /documents/, after the rule in stories.documents.
    for folder in ("images", "original_images"):
        urlpatterns += static(f"{settings.MEDIA_URL}{folder}/", document_root=settings.MEDIA_ROOT / folder)

urlpatterns += [
    # transcript.vtt/.srt/.txt at a story's own address; Wagtail's catch-all only matches slash-ended paths.
    path("", include("transcription.urls")),
    path("", include(wagtail_urls)),
]
