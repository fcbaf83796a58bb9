"""python manage.py search_index rebuild | status | verify [--queue] [--no-repair]"""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from search.backends import get_search_backend
from search.models import IndexCheck
from search.services import search_index_rebuild, search_index_status, search_index_verify
from stories.services.public import public_stories_verify


class Command(BaseCommand):
    help = (
        "Rebuild the story search index from the stories the public may see, show its status, or verify it against "
        "the visibility rule (both ways) and repair any drift."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "status", "verify"])
        parser.add_argument("--queue", action="store_true", help="verify: queue the check for the worker (cron).")
        parser.add_argument("--no-repair", action="store_true", help="verify: report drift without repairing it.")

    def handle(self, *args, action, **options):
        if action == "rebuild":
            self.rebuild(quiet=options["verbosity"] == 0)
        elif action == "verify":
            self.verify(queue=options["queue"], repair=not options["no_repair"])
        else:
            self.status()

    def rebuild(self, *, quiet: bool):
        backend = get_search_backend()
        self.stdout.write(f"Rebuilding the {backend.name} story index…")

        def progress(records, total):
            return tqdm(records, total=total, unit="story", file=self.stderr._out, disable=quiet)

        indexed = search_index_rebuild(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Indexed {indexed} public stor{'y' if indexed == 1 else 'ies'}."))

    def verify(self, *, queue: bool, repair: bool):
        if queue:
            from search.tasks import verify_search_index

            result = verify_search_index.enqueue()
            self.stdout.write(f"queued {verify_search_index.name} ({result.id})")
            return
        stored = public_stories_verify(repair=repair)
        self.stdout.write(
            f"stored answer: {stored.public} public, {stored.shown_but_hidden} listed but hidden, "
            f"{stored.hidden_but_allowed} allowed but not yet listed, {stored.themes_adrift} with other themes"
        )
        check = search_index_verify(repair=repair)
        self.write_check(check)
        if stored.drift:
            done = "repaired" if repair else "not repaired (--no-repair)"
            self.stderr.write(self.style.ERROR(f"{stored.drift} stories were out of place in the listings: {done}."))
        if check.drift:
            done = "repaired" if repair else "not repaired (--no-repair)"
            self.stderr.write(self.style.ERROR(f"{check.drift} stories were out of place: {done}."))
        else:
            self.stdout.write(self.style.SUCCESS("The index matches the visibility rule."))

    def write_check(self, check: IndexCheck):
        self.stdout.write(
            f"last verified: {check.checked_at:%Y-%m-%d %H:%M:%S %Z} on {check.backend}: {check.indexed} indexed, "
            f"{check.public} public, {check.hidden_but_indexed} hidden but indexed, {check.missing} missing, "
            f"{check.pending} waiting for a queued refresh"
        )

    def status(self):
        status = search_index_status()
        for key, value in status.items():
            self.stdout.write(f"{key.replace('_', ' ')}: {value}")
        check = IndexCheck.objects.first()
        if check is None:
            self.stdout.write("last verified: never (run `search_index verify`)")
        else:
            self.write_check(check)
        if not status.get("healthy"):
            self.stderr.write(
                self.style.ERROR(f"The search backend is not healthy: {status.get('error', 'no answer')}.")
            )
        elif status.get("rebuild_needed"):
            self.stderr.write(self.style.ERROR("The story index needs a rebuild: run `search_index rebuild`."))
        elif status.get("indexed_stories") != status.get("public_stories"):
            self.stdout.write(
                self.style.WARNING(
                    "The index and the public stories differ: run `search_index verify`, or wait for the worker."
                )
            )
