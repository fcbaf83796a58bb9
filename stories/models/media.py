"""Recordings: the stored original and the copies made for listening, kept where no static URL serves them."""

import uuid

from django.core.files.storage import storages
from django.db import models


def private_storage():
    """Recordings and their derived files: a storage root that no static URL serves."""
    return storages["private"]


class StoryMedia(models.Model):
    """A stored recording: the untouched original plus the copies made for listening."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(storage=private_storage, max_length=255)
    original_filename = models.CharField(max_length=255, blank=True, help_text="As uploaded; kept only as text.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=100, blank=True)
    container = models.CharField(max_length=100)
    audio_codec = models.CharField(max_length=50, blank=True)
    video_codec = models.CharField(max_length=50, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Made by the transcription worker: what browsers play, and a still for video.
    access_copy = models.FileField(storage=private_storage, max_length=255, blank=True)
    access_content_type = models.CharField(max_length=100, blank=True)
    poster = models.FileField(storage=private_storage, max_length=255, blank=True)
    access_copy_error = models.TextField(
        blank=True, help_text="Why the access copy could not be made; until it is, the public hears nothing."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Fixity: the original hashed again against the SHA-256 taken as it was uploaded (stories/services/fixity.py).
    fixity_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    fixity_error = models.TextField(blank=True, editable=False, help_text="What the last fixity check found wrong.")

    class Meta:
        verbose_name = "recording"
        verbose_name_plural = "recordings"

    def __str__(self):
        return self.original_filename or str(self.id)

    @property
    def has_video(self) -> bool:
        return bool(self.video_codec)

    @property
    def kind(self) -> str:
        return StoryKind.of(has_recording=True, video_codec=self.video_codec)


class StoryKind(models.TextChoices):
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    TEXT = "text", "Written"

    @classmethod
    def of(cls, *, has_recording: bool, video_codec: str) -> "StoryKind":
        """Written without a recording; video when the recording has a video stream; audio otherwise."""
        if not has_recording:
            return cls.TEXT
        return cls.VIDEO if video_codec else cls.AUDIO
