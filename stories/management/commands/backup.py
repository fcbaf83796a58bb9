from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stories.services.backup import BackupRefused, backup_create


class Command(BaseCommand):
    help = "Write a backup (the database, private recordings and public media, with SHA-256 sums) into a folder."

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="The folder that receives a new storyarchive-<time> folder.")

    def handle(self, *args, destination, **options):
        try:
            folder = backup_create(destination=destination)
        except (BackupRefused, OSError) as error:
            raise CommandError(f"No backup was written: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"Backup written to {folder}"))
