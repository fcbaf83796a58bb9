from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from stories.services.fixity import fixity_check, originals


class Command(BaseCommand):
    help = (
        "Hash every preservation original again and compare it with the SHA-256 taken at upload; report any that "
        "changed or went missing, here and by e-mail to the administrators."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-gb", type=float, help="Stop after reading about this much (the originals checked longest ago first)."
        )

    def handle(self, *args, max_gb, **options):
        if max_gb is not None and max_gb <= 0:
            raise CommandError("--max-gb must be more than 0.")
        total = originals().count()
        with tqdm(total=total, unit="recording", disable=options["verbosity"] == 0) as bar:
            report = fixity_check(
                max_bytes=None if max_gb is None else int(max_gb * 1024**3), on_progress=lambda media: bar.update()
            )
        for media in report.failed:
            self.stderr.write(
                self.style.ERROR(f"recording {media.pk} ({media.original_filename}): {media.fixity_error}")
            )
        summary = (
            f"{report.checked} originals checked ({report.bytes_read / 1024**2:.1f} MB), {len(report.failed)} failed."
        )
        if report.failed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
