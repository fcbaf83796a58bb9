from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stories.services.backup import BackupRefused, backup_restore


class Command(BaseCommand):
    help = (
        "Replace this archive's database and media with a backup's, after checking every file against its manifest; "
        "stories withdrawn since the backup are withdrawn again. Stop the web server and the workers first."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="A storyarchive-<time> folder written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Do not ask before replacing this archive's data.")

    def handle(self, *args, source, yes, **options):
        if not yes and input(f"Replace this archive's database and media with {source}? [y/N] ").lower() != "y":
            raise CommandError("Nothing was restored.")
        try:
            report = backup_restore(source=source)
        except BackupRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {report.files} files from {source}."))
        if report.withdrawals_replayed:
            self.stdout.write(
                f"Withdrawn again, as they were before the restore: stories {report.withdrawals_replayed}."
            )
        self.stdout.write("Now run `manage.py search_index rebuild`, then start the web server and the workers.")
