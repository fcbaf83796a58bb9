from django.apps import AppConfig


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"

    def ready(self):
        from django.db.models.signals import post_save, pre_save

        from stories.models import Community, Theme
        from stories.signals import stories_hidden, story_visibility_changed
        from transcription.signals import transcript_ready, written_text_redacted

        from . import handlers

        # The stories app announces every change to an input of the visibility rule (stories/receivers.py).
        stories_hidden.connect(handlers.stories_hidden, dispatch_uid="search-hidden")
        story_visibility_changed.connect(handlers.story_visibility_changed, dispatch_uid="search-visibility")
        transcript_ready.connect(handlers.transcript_ready, dispatch_uid="search-transcript")
        written_text_redacted.connect(handlers.written_text_redacted, dispatch_uid="search-written-redaction")
        for model in (Theme, Community):
            uid = f"search-label-{model._meta.model_name}"
            pre_save.connect(handlers.remember_indexed_label, sender=model, dispatch_uid=f"{uid}-before")
            post_save.connect(handlers.label_changed, sender=model, dispatch_uid=uid)
        # A withdrawn story's words leave the full-text storage (search/purge.py connects its receiver).
        from . import purge  # noqa: F401
