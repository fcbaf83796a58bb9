"""A bag a facilitator asked for in the admin: what it holds, how far the worker has got, and where it lies."""

from django.conf import settings
from django.db import models


class BagExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"
        REMOVED = "removed", "Deleted"

    story = models.ForeignKey("stories.StoryPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    collection = models.ForeignKey(
        "stories.CollectionPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    include_not_public = models.BooleanField(default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    bytes_written = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    # The bag's folder under preservation.services.bag_root(), and the stories in it (a withdrawal deletes the bag).
    folder = models.CharField(max_length=255, blank=True)
    story_ids = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Bag {self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.bytes_written / self.bytes_total) if self.bytes_total else 0
