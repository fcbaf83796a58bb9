from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stories.services.backup import BackupRefused, backup_restore


def passage_named(passage) -> str:
    """A passage undone before the restore, as an administrator finds it again."""
    # Redactions belong to the transcription app, which builds on this one: imported where used.
    from transcription.transcript_files import clock

    if passage.media_id is not None:
        return f"recording {passage.media_id}, {clock(passage.start)}–{clock(passage.end)}"
    return f"story {passage.story_id}, characters {passage.start:.0f}–{passage.end:.0f} of its block {passage.block_id}"


class Command(BaseCommand):
    help = (
        "Replace this archive's database and media with a backup's, after checking every file against its manifest; "
        "stories withdrawn since the backup are withdrawn again, and redactions made since are made again (originals "
        "redacted too are written again with the silence); redactions undone since stay in force, and are named. Stop "
        "the web server and the workers first."
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
        for replayed in report.redactions_replayed:
            done = (
                f"Redactions made since the backup, made again: recording {replayed.media_id}, "
                f"{replayed.redactions} redaction(s)"
            )
            if replayed.originals:
                done += f", its original written again with silence over {replayed.originals} passage(s)"
            if replayed.outcome == "made":
                self.stdout.write(f"{done}; its listening copy made again.")
            else:
                self.stderr.write(
                    self.style.ERROR(
                        f"{done}; but its copies could not be made yet ({replayed.error or replayed.outcome}). The "
                        "public is told it is being prepared; its Redactions page in the admin says what to do."
                    )
                )
        if report.written_redactions_replayed:
            self.stdout.write(
                "Written passages redacted since the backup, redacted again: stories "
                f"{report.written_redactions_replayed}."
            )
        if report.undone_in_force_again:
            self.stdout.write(
                self.style.WARNING(
                    "Redactions undone since the backup are in force again, as the backup had them (undo them again "
                    "on the story's Redactions page in the admin if that still holds):"
                )
            )
            for passage in report.undone_in_force_again:
                self.stdout.write(f"  {passage_named(passage)}")
        self.stdout.write("Now run `manage.py search_index rebuild`, then start the web server and the workers.")
