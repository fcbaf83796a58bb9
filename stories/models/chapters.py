"""Chapters: named places in a story's recording, kept with the story's page (and its drafts) and public only when the
story is. They are served as a Podcasting 2.0 JSON chapters file and listed on the story's page and in its feeds."""

import math

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from modelcluster.fields import ParentalKey
from modelcluster.forms import BaseChildFormSet
from wagtail.admin.panels import FieldPanel, InlinePanel

from ..timecodes import format_clock

NO_RECORDING = "This story has no recording: chapters mark places in a recording. Remove this chapter."


class Chapter(models.Model):
    """A named place in a story's recording: from `start_seconds` (to `end_seconds` when given), with a title and a
    link to read more."""

    story = ParentalKey("stories.StoryPage", on_delete=models.CASCADE, related_name="chapters")
    start_seconds = models.IntegerField(
        "start",
        validators=[MinValueValidator(0, message="The start must be 0 seconds or later.")],
        help_text="Where the chapter begins, in seconds from the start of the recording (135 for 02:15).",
    )
    end_seconds = models.IntegerField(
        "end",
        null=True,
        blank=True,
        help_text="Where it ends, in seconds; empty when it runs until the next chapter or the end.",
    )
    title = models.CharField(max_length=200, help_text="What this part of the story is about.")
    url = models.URLField(
        "link", max_length=500, blank=True, help_text="A web page about this part of the story, if there is one."
    )

    panels = [FieldPanel("start_seconds"), FieldPanel("end_seconds"), FieldPanel("title"), FieldPanel("url")]

    class Meta:
        ordering = ["start_seconds", "pk"]
        verbose_name = "chapter"
        verbose_name_plural = "chapters"
        constraints = [
            models.CheckConstraint(condition=models.Q(start_seconds__gte=0), name="chapter_starts_at_or_after_zero"),
            models.CheckConstraint(
                condition=models.Q(end_seconds__isnull=True) | models.Q(end_seconds__gt=models.F("start_seconds")),
                name="chapter_ends_after_its_start",
            ),
        ]

    def __str__(self):
        return f"{format_clock(self.start_seconds)} {self.title}"

    @property
    def clock(self) -> str:
        return format_clock(self.start_seconds)

    def clean(self):
        super().clean()
        if self.end_seconds is not None and self.start_seconds is not None and self.end_seconds <= self.start_seconds:
            raise ValidationError(
                {"end_seconds": f"The end must come after the start ({self.start_seconds} seconds), or be empty."}
            )


def chapter_problems(
    chapters: list[tuple[int | None, int | None, str]], *, has_recording: bool, duration: float | None
) -> list[dict[str, str]]:
    """What is wrong with a story's chapters, given as (start, end, title), times in seconds: one {field: message} per chapter
    (empty when it is fine), in order. A story without a recording has none; a start must be within the recording and
    an end no later than its end (when its length is known); no two chapters start at the same second."""
    problems: list[dict[str, str]] = []
    seen: dict[int, str] = {}
    length = f"{format_clock(duration)} ({math.ceil(duration)} seconds)" if duration is not None else ""
    for number, (start, end, title) in enumerate(chapters, start=1):
        found = {}
        if not (title or "").strip():
            # Required even in a draft (which Wagtail lets leave required fields empty): a draft can be published by
            # a workflow's approval without the form being checked again.
            found["title"] = "Give the chapter a title: it is what listeners see in the list of chapters."
        if not has_recording:
            found["start_seconds"] = NO_RECORDING
        elif start is not None and duration is not None and start >= duration:
            found["start_seconds"] = f"The start ({start} seconds) is after the recording ends: it is {length} long."
        elif start is not None and start in seen:
            found["start_seconds"] = (
                f"The chapter {seen[start]} already starts at {start} seconds ({format_clock(start)}): "
                "give each chapter its own start."
            )
        if has_recording and end is not None and duration is not None and end > math.ceil(duration):
            found["end_seconds"] = (
                f"The end ({end} seconds) is after the recording ends: it is {length} long. "
                "Leave the end empty to run to the end."
            )
        if start is not None:
            seen.setdefault(start, f"“{title}”" if title else f"number {number}")
        problems.append(found)
    return problems


class ChapterFormSet(BaseChildFormSet):
    """The chapters of the story being edited, checked together against its recording."""

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if hasattr(form, "cleaned_data")
            and not self._should_delete_form(form)
            and (form.instance.pk is not None or form.has_changed())
        ]
        recording = getattr(self.instance, "recording", None)
        problems = chapter_problems(
            [
                (
                    form.cleaned_data.get("start_seconds"),
                    form.cleaned_data.get("end_seconds"),
                    form.cleaned_data.get("title"),
                )
                for form in kept
            ],
            has_recording=recording is not None,
            duration=recording.duration_seconds if recording is not None else None,
        )
        for form, found in zip(kept, problems, strict=True):
            for field, message in found.items():
                if field not in form.errors:
                    form.add_error(field, message)


class ChaptersPanel(InlinePanel):
    """An InlinePanel whose chapters are checked together, against the story's recording."""

    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["formset"] = ChapterFormSet
        return options
