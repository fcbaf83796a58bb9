from django.apps import AppConfig


class OaiConfig(AppConfig):
    """OAI-PMH 2.0 at /oai/: Dublin Core records of the public stories, for library catalogues to harvest."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "oai"
    verbose_name = "OAI-PMH"
