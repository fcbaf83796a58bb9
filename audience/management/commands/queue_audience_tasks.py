from django.core.management.base import BaseCommand

from audience.tasks import prune_zero_result_searches


class Command(BaseCommand):
    help = "Queue the audience figures' upkeep (searches that found nothing go after 90 days) for the worker."

    def handle(self, *args, **options):
        result = prune_zero_result_searches.enqueue()
        self.stdout.write(f"queued {prune_zero_result_searches.name} ({result.id})")
