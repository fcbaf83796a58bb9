"""python manage.py store_public_answer: ask the visibility rule about every story and store its answer for listings."""

from django.core.management.base import BaseCommand

from stories.services.public import public_stories_rebuild


class Command(BaseCommand):
    help = (
        "Ask the visibility rule about every story and store its answer, which listings, counts and the sitemap read; "
        "then refresh the database's statistics. For after a bulk load that bypassed the archive's own writers."
    )

    def handle(self, *args, **options):
        public = public_stories_rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Stored the rule's answer: {public} public stor{'y' if public == 1 else 'ies'}.")
        )
