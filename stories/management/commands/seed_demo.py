import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from stories.importer import import_manifest
from stories.models import CollectionEntry, CollectionPage, HomePage, StoryPage

DEMO_MANIFEST = Path(__file__).resolve().parents[2] / "demo" / "manifest.csv"
DEMO_COLLECTIONS = [
    (
        "Finding home",
        "Elders and young people on the places they have lived, and what made a house a home.",
        "humane-housing",
    ),
    (
        "Getting there",
        "Buses, rides and long walks: how people reach work, school and each other.",
        "reliable-transportation",
    ),
]


class Command(BaseCommand):
    help = "Load the demo stories and collections, and make a local administrator. Safe to run again."

    def handle(self, *args, **options):
        outcome = import_manifest(
            DEMO_MANIFEST,
            publish=True,
            progress=lambda rows: tqdm(rows, desc="Demo stories", unit="story", file=self.stderr._out, disable=None),
        )
        for line, message in outcome.failed:
            self.stderr.write(f"demo manifest line {line}: {message}")
        # A demo story someone withdrew stays withdrawn: it is left out, and the demo still starts.
        for line, message in outcome.withdrawn:
            self.stderr.write(f"demo manifest line {line} left out: {message}")
        if outcome.failed:
            raise CommandError("The demo manifest has rows that did not import.")
        self._collections()
        self._administrator()
        self.stdout.write(
            self.style.SUCCESS(f"Demo ready: {outcome.created} new stories, {outcome.updated} refreshed.")
        )

    def _collections(self):
        home = HomePage.objects.get()
        for title, intro, theme_slug in DEMO_COLLECTIONS:
            if CollectionPage.objects.filter(title=title).exists():
                continue
            collection = CollectionPage(title=title, intro=f"<p>{intro}</p>", curator="The facilitators")
            home.add_child(instance=collection)
            stories = StoryPage.objects.visible_to_public().filter(themes__slug=theme_slug).distinct()[:5]
            collection.entries = [
                CollectionEntry(story=story, sort_order=order, start_seconds=2 if order == 0 else None)
                for order, story in enumerate(stories)
            ]
            collection.save_revision().publish()
        if home.featured_collection_id is None:
            home.featured_collection = CollectionPage.objects.order_by("pk").first()
            home.save_revision().publish()

    def _administrator(self):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(
            self.style.WARNING(
                "A local administrator was created. It is shown only this once:\n"
                f"    user: admin\n    password: {password}\n    sign in at /admin/"
            )
        )
