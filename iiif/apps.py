from django.apps import AppConfig


class IiifConfig(AppConfig):
    """IIIF Presentation 3 manifests for the public stories with a recording, and for collections."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "iiif"
    verbose_name = "IIIF"
