"""python manage.py search_index rebuild | status"""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from search.backends import get_search_backend
from search.services import search_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the story search index from the stories the public may see, or show its status."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "status"])

    def handle(self, *args, action, **options):
        if action == "rebuild":
            self.rebuild(quiet=options["verbosity"] == 0)
        else:
            self.status()

    def rebuild(self, *, quiet: bool):
        backend = get_search_backend()
        self.stdout.write(f"Rebuilding the {backend.name} story index…")

        def progress(records, total):
            return tqdm(records, total=total, unit="story", file=self.stderr._out, disable=quiet)

        indexed = search_index_rebuild(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Indexed {indexed} public stor{'y' if indexed == 1 else 'ies'}."))

    def status(self):
        status = get_search_backend().status()
        for key, value in status.items():
            self.stdout.write(f"{key.replace('_', ' ')}: {value}")
        if not status.get("healthy"):
            self.stderr.write(self.style.ERROR("The search backend is not healthy."))
        elif status.get("indexed_stories") != status.get("public_stories"):
            self.stdout.write(
                self.style.WARNING(
                    "The index and the public stories differ: run `search_index rebuild`, or the worker."
                )
            )
