from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from stories.importer import ManifestError, import_manifest


class Command(BaseCommand):
    help = "Import the stories listed in a dialogue event's CSV manifest, as drafts unless --publish is given."

    def add_arguments(self, parser):
        parser.add_argument("manifest", type=Path, help="A UTF-8 CSV with a header row (see the README).")
        parser.add_argument("--publish", action="store_true", help="Publish each story instead of saving a draft.")

    def handle(self, *args, manifest: Path, publish: bool, **options):
        if not manifest.is_file():
            raise CommandError(f"There is no file at {manifest}.")

        def progress(records):
            return tqdm(records, desc="Importing stories", unit="story", file=self.stderr._out, disable=None)

        try:
            outcome = import_manifest(manifest, publish=publish, progress=progress)
        except ManifestError as error:
            raise CommandError(str(error)) from error
        for line, message in outcome.failed:
            self.stderr.write(f"line {line}: {message}")
        for line, message in outcome.withdrawn:
            self.stderr.write(f"line {line}: refused: {message}")
        summary = (
            f"{outcome.created} created, {outcome.updated} updated, {len(outcome.failed)} failed, "
            f"{len(outcome.withdrawn)} refused because they were withdrawn."
        )
        if outcome.failed or outcome.withdrawn:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
