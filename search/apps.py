from django.apps import AppConfig


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"

    def ready(self):
        from django.db.models.signals import post_delete, post_save, pre_save
        from wagtail.models import PageViewRestriction
        from wagtail.signals import page_published, page_unpublished

        from stories.models import Community, StoryPage, Theme
        from stories.signals import story_visibility_changed
        from transcription.signals import transcript_ready

        from . import handlers

        page_published.connect(handlers.story_page_changed, sender=StoryPage, dispatch_uid="search-published")
        page_unpublished.connect(handlers.story_page_changed, sender=StoryPage, dispatch_uid="search-unpublished")
        post_delete.connect(handlers.story_page_changed, sender=StoryPage, dispatch_uid="search-deleted")
        story_visibility_changed.connect(handlers.story_visibility_changed, dispatch_uid="search-visibility")
        for signal, uid in ((post_save, "search-restricted"), (post_delete, "search-unrestricted")):
            signal.connect(handlers.view_restriction_changed, sender=PageViewRestriction, dispatch_uid=uid)
        transcript_ready.connect(handlers.transcript_ready, dispatch_uid="search-transcript")
        for model in (Theme, Community):
            uid = f"search-label-{model._meta.model_name}"
            pre_save.connect(handlers.remember_indexed_label, sender=model, dispatch_uid=f"{uid}-before")
            post_save.connect(handlers.label_changed, sender=model, dispatch_uid=uid)
