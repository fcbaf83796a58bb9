from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StoriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stories"

    def ready(self):
        from . import page_cache, receivers, review_mail
        from .chapters import CHAPTERS_FILE, story_chapters_file
        from .roles import ensure_facilitators_group
        from .routes import register_story_route

        receivers.connect()
        register_story_route(CHAPTERS_FILE, story_chapters_file)
        page_cache.connect()
        review_mail.connect()
        # Without a sender filter: the image and document permissions exist only after their own apps migrate.
        post_migrate.connect(ensure_facilitators_group, dispatch_uid="stories.facilitators_group")
        post_migrate.connect(store_the_rules_answer_once, sender=self, dispatch_uid="stories.public_answer")


def store_the_rules_answer_once(**kwargs):
    """After the migration that brings the stored answer (stories/models/public.py), and on any database that has
    never had it: ask the rule about every story already here. Run after every migration, not inside one, because the
    rule is code that reads today's models."""
    from .models import PublicCount
    from .services.public import public_stories_rebuild

    if not PublicCount.objects.filter(subject=PublicCount.Subject.ALL).exists():
        public_stories_rebuild()
