from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StoriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stories"

    def ready(self):
        from . import receivers
        from .roles import ensure_facilitators_group

        receivers.connect()
        # Without a sender filter: the image and document permissions exist only after their own apps migrate.
        post_migrate.connect(ensure_facilitators_group, dispatch_uid="stories.facilitators_group")
