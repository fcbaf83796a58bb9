from django.apps import AppConfig


class PodcastsConfig(AppConfig):
    """RSS 2.0 podcast feeds of the public recorded stories, per community, theme and collection."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "podcasts"
