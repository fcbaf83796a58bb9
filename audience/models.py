"""Listening and search figures: counts only. No row says who listened or searched, or from where."""

from django.db import models

# A recording is counted in stretches of this many seconds: stretch 0 is 0-10 s, stretch 1 is 10-20 s, and so on.
STRETCH_SECONDS = 10


class StoryListeningDay(models.Model):
    """How often a story was played on a day, and how many 10-second stretches were heard in all."""

    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    plays = models.PositiveIntegerField(default=0)
    stretches_heard = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "listening day"
        constraints = [models.UniqueConstraint(fields=["story", "day"], name="audience_one_listening_row_per_day")]
        indexes = [models.Index(fields=["day"], name="audience_listening_day")]
        permissions = [("view_figures", "Can see listening and search figures")]

    def __str__(self):
        return f"story {self.story_id} on {self.day}: {self.plays} plays"

    @property
    def minutes(self) -> float:
        return self.stretches_heard * STRETCH_SECONDS / 60


class StoryStretchListens(models.Model):
    """How many plays of a story reached one 10-second stretch of its recording: its most-listened moments."""

    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="+")
    stretch = models.PositiveIntegerField()
    listens = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "stretch listens"
        verbose_name_plural = "stretch listens"
        constraints = [models.UniqueConstraint(fields=["story", "stretch"], name="audience_one_row_per_stretch")]

    def __str__(self):
        return f"story {self.story_id}, stretch {self.stretch}: {self.listens} listens"

    @property
    def start_seconds(self) -> int:
        return self.stretch * STRETCH_SECONDS


class ZeroResultSearch(models.Model):
    """A search text (lower-cased, trimmed) that found no story, and how often on a day. Kept 90 days."""

    text = models.CharField(max_length=200)
    day = models.DateField()
    searches = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "search that found nothing"
        verbose_name_plural = "searches that found nothing"
        constraints = [models.UniqueConstraint(fields=["text", "day"], name="audience_one_row_per_text_and_day")]
        indexes = [models.Index(fields=["day"], name="audience_zero_result_day")]

    def __str__(self):
        return f"“{self.text}” on {self.day}: {self.searches}"
