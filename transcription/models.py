"""Transcripts and their time-coded segments."""

from django.conf import settings
from django.db import models


class TranscriptQuerySet(models.QuerySet):
    def readable(self):
        """The transcript the public and storytellers read, at most one per recording: the current one.

        Only a finished transcript is made current: the newest finished one, unless a facilitator's corrected one is
        kept or a facilitator chose another. Asked to run again, it stays current and keeps its words while queued,
        running or failed, until the new words replace them in the transaction that finishes it; so the old words
        stay readable everywhere until the new ones are done.
        """
        return self.filter(is_current=True)


class Transcript(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    media = models.ForeignKey("stories.StoryMedia", on_delete=models.CASCADE, related_name="transcripts")
    model_name = models.CharField(max_length=200, help_text="The Whisper model that made it, e.g. tiny.en or base.")
    engine = models.CharField(max_length=50, default="faster-whisper")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # The transcript people read for this recording (Transcript.objects.readable()); at most one per recording.
    is_current = models.BooleanField(default=False, db_index=True)
    language = models.CharField(max_length=35, blank=True)
    language_probability = models.FloatField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why it failed, in words a facilitator understands.")
    no_speech = models.BooleanField(default=False, help_text="The recording holds no speech.")
    machine_generated = models.BooleanField(default=True)
    reviewed = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    real_time_factor = models.FloatField(null=True, blank=True)
    # How many times the worker has tried: transient failures and crashed workers each count one.
    attempts = models.PositiveSmallIntegerField(default=0)
    source_text = models.TextField(
        blank=True,
        help_text="Words people wrote without times, which the worker lines up with the recording to time them.",
    )
    # Bumped by every facilitator's change: a save made against an older version is refused, so no change is lost.
    version = models.PositiveIntegerField(default=0)
    supersede_corrections = models.BooleanField(
        default=False,
        help_text="When it finishes, replace the current transcript even if a facilitator corrected that one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TranscriptQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["media", "model_name"], name="one_transcript_per_recording_and_model"),
            models.UniqueConstraint(
                fields=["media"], condition=models.Q(is_current=True), name="one_current_transcript_per_recording"
            ),
        ]

    def __str__(self):
        return f"{self.media} ({self.model_name}, {self.get_status_display()})"

    @property
    def is_corrected(self) -> bool:
        return self.reviewed or self.segments.filter(edited=True).exists()


class Segment(models.Model):
    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="segments")
    index = models.PositiveIntegerField()
    start = models.FloatField(help_text="Seconds from the start of the recording.")
    end = models.FloatField()
    text = models.TextField()
    words = models.JSONField(default=list, blank=True, help_text="[{start, end, word, probability}] where known.")
    edited = models.BooleanField(default=False, help_text="A facilitator corrected this segment.")
    # Who says it: one of the story's participants. Deleting the person (a withdrawal) leaves no name behind.
    speaker = models.ForeignKey(
        "stories.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="spoken_segments"
    )

    class Meta:
        ordering = ["transcript", "index"]
        constraints = [models.UniqueConstraint(fields=["transcript", "index"], name="one_segment_per_position")]

    def __str__(self):
        return f"{self.start:.1f}-{self.end:.1f}: {self.text[:60]}"


class Redaction(models.Model):
    """A passage of a recording the public and storytellers' downloads no longer hear or read: from start to end.

    It belongs to the recording, not to a transcript, so every transcript made of it, now or later, shows
    "[redacted]" for the segments it overlaps. Undoing it deletes the row; the audit (RedactionEvent) keeps the rest.
    """

    media = models.ForeignKey("stories.StoryMedia", on_delete=models.CASCADE, related_name="redactions")
    start = models.FloatField(help_text="Seconds from the start of the recording.")
    end = models.FloatField(help_text="Seconds from the start of the recording; after the start.")
    reason = models.TextField(help_text="Why it is redacted. Never repeat the redacted words here.")
    # "Redact the original too": the preservation original itself is written again with silence over the passage,
    # by the worker (original_redacted_at says when). Its sound cannot be brought back; its words can.
    original_too = models.BooleanField(default=False)
    original_redacted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["media", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="redaction_ends_after_start")
        ]

    def __str__(self):
        return f"{self.start:.1f}-{self.end:.1f} of recording {self.media_id}"

    def covers(self, start: float, end: float) -> bool:
        """The span from start to end overlaps the redacted passage (what selectors.public_segments asks in SQL)."""
        return start < self.end and end > self.start


class RedactionRemake(models.Model):
    """The worker's making again of a recording's copies after its redactions changed (and of its original, where
    "redact the original too" asks): queued, running, done or failed, with its attempts and why it failed.

    One per recording. Only services change it; the reaper takes it back when its worker dies (its heartbeat is
    updated_at), as it does transcripts. Until it is done the public is told the recording is being prepared.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    media = models.OneToOneField(
        "stories.StoryMedia", on_delete=models.CASCADE, primary_key=True, related_name="redaction_remake"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # Bumped by every request: a worker still running for an older one neither finishes nor fails the newer one.
    version = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why it failed, in words a facilitator understands.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"copies of recording {self.media_id} ({self.get_status_display()})"


class RedactionEvent(models.Model):
    """The audit of redactions: who redacted or restored which range of which recording, when, and why.

    It holds times and the reason only, never the words, and outlives the redaction and the recording."""

    class Action(models.TextChoices):
        REDACTED = "redacted", "Redacted"
        RESTORED = "restored", "Redaction undone"
        ORIGINAL = "original", "Original rewritten with silence"
        WORDS_RESTORED = "words", "Words restored (the sound stays silent)"
        REPLAYED = "replayed", "Made again after a backup was restored"

    action = models.CharField(max_length=10, choices=Action.choices)
    # A recording's passage (start and end in seconds), or a written story's (story, block, start and end characters).
    media_id = models.UUIDField(null=True, blank=True, db_index=True)
    story_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    block_id = models.CharField(max_length=64, blank=True)
    start = models.FloatField()
    end = models.FloatField()
    reason = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept if the account is deleted.")
    # When the original was rewritten: its fixity checksum before and after, so a backup's older hash is explained.
    sha256_before = models.CharField(max_length=64, blank=True)
    sha256_after = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        if self.media_id is None:
            return f"{self.get_action_display()} characters {self.start:.0f}-{self.end:.0f} of story {self.story_id}"
        return f"{self.get_action_display()} {self.start:.1f}-{self.end:.1f} of recording {self.media_id}"


class WrittenRedaction(models.Model):
    """A passage of a written story's text the public no longer reads: characters start to end of one paragraph or
    quote (its block in the story's body), as the API's plain text gives that block. Undoing it deletes the row."""

    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="written_redactions")
    block_id = models.CharField(max_length=64, help_text="The id of the paragraph or quote in the story's body.")
    # The SHA-256 of the block's whole text when it was redacted: once the text is edited, the characters may no
    # longer be the ones meant, so the whole block reads "[redacted]" until a facilitator redacts it again.
    block_digest = models.CharField(max_length=64)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    reason = models.TextField(help_text="Why it is redacted. Never repeat the redacted words here.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["story", "block_id", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="written_redaction_ends_after_start"
            )
        ]

    def __str__(self):
        return f"characters {self.start}-{self.end} of a block of story {self.story_id}"
