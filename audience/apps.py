from django.apps import AppConfig


class AudienceConfig(AppConfig):
    """Listening and search figures for facilitators, counted without recording who listened or searched."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "audience"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import receivers
        from .roles import grant_facilitators_figures

        receivers.connect()
        post_migrate.connect(grant_facilitators_figures, sender=self, dispatch_uid="audience.facilitators_figures")
