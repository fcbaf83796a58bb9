from django.apps import AppConfig


class PreservationConfig(AppConfig):
    """BagIt packages of stories, with their recordings, transcripts and consent records, for facilitators."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "preservation"

    def ready(self):
        from . import receivers  # noqa: F401
