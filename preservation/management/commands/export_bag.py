from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from preservation.selectors import NothingToBag, bag_selection
from preservation.services import bag_write


class Command(BaseCommand):
    help = (
        "Write a BagIt 1.0 bag of a story, a collection or a community into a new folder in --output: recordings, "
        "transcripts, written text, metadata and consent records. Withdrawn stories are never bagged; stories the "
        "public may not see only with --include-not-public."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--story", type=int, metavar="ID", help="One story, by its id.")
        which.add_argument("--collection", metavar="SLUG", help="A collection's stories, in its order.")
        which.add_argument("--community", metavar="SLUG", help="Every story from a community.")
        parser.add_argument("--output", required=True, type=Path, metavar="DIR", help="Where the bag's folder goes.")
        parser.add_argument(
            "--include-not-public",
            action="store_true",
            help="Bag stories the public may not see too, on purpose; bag-info.txt then says so.",
        )

    def handle(self, *args, **options):
        try:
            selection = bag_selection(
                story_id=options["story"],
                collection_slug=options["collection"],
                community_slug=options["community"],
                include_not_public=options["include_not_public"],
            )
        except NothingToBag as error:
            raise CommandError(str(error)) from error
        if selection.left_out_not_public:
            self.stderr.write(
                f"{selection.left_out_not_public} stories the public may not see were left out "
                "(--include-not-public takes them)."
            )
        quiet = options["verbosity"] == 0
        with tqdm(total=0, unit="B", unit_scale=True, desc="Bagging", file=self.stderr._out, disable=quiet) as bar:

            def progress(written: int, total: int) -> None:
                bar.total = total
                bar.update(written - bar.n)

            try:
                path = bag_write(
                    selection=selection,
                    output_dir=options["output"],
                    exported_by="manage.py export_bag",
                    on_progress=progress,
                )
            except (FileNotFoundError, FileExistsError) as error:
                raise CommandError(str(error)) from error
        self.stdout.write(f"{path} ({len(selection.stories)} stories)")
