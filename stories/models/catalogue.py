"""What stories are filed under: themes (the seven vital conditions), communities and the dialogues they hold, and
the content notes a story carries."""

from django import forms
from django.conf import settings
from django.db import models
from django.utils.text import slugify
from wagtail.admin.panels import FieldPanel
from wagtail.search import index

from ..admin_forms import WithinReachModelForm
from ..roles import FACILITATORS


class Theme(index.Indexed, models.Model):
    """A theme stories are tagged with; seeded with the seven vital conditions."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("stories:theme", args=[self.slug])


class Community(index.Indexed, models.Model):
    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=150, unique=True)
    place = models.CharField(max_length=150, blank=True, help_text="City, state or region.")
    description = models.TextField(blank=True)
    image = models.ForeignKey("wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who works on this community's stories in the admin (stories/permissions.py); administrators work on every one.
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="facilitated_communities",
        limit_choices_to={"groups__name": FACILITATORS, "is_active": True},
        help_text="Members of the Facilitators group who see, edit, review and publish this community's stories.",
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("place"),
        FieldPanel("description"),
        FieldPanel("image"),
        FieldPanel("facilitators", widget=forms.CheckboxSelectMultiple),
    ]
    search_fields = [
        # The admin lists only a facilitator's own communities, by id (stories/permissions.py).
        index.FilterField("id"),
        index.SearchField("name"),
        index.SearchField("place"),
        index.AutocompleteField("name"),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("stories:community", args=[self.slug])


class Dialogue(index.Indexed, models.Model):
    """The gathering where stories were recorded."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        blank=True,
        help_text="Its public address, /dialogues/<slug>/; made from the title.",
    )
    date = models.DateField(null=True, blank=True)
    place = models.CharField(max_length=200, blank=True)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="dialogues")
    description = models.TextField(blank=True)
    questions = models.TextField(blank=True, help_text="The questions asked at the dialogue, one a line.")

    panels = [
        FieldPanel("title"),
        FieldPanel("slug"),
        FieldPanel("date"),
        FieldPanel("place"),
        FieldPanel("community"),
        FieldPanel("description"),
        FieldPanel("questions"),
    ]
    base_form_class = WithinReachModelForm
    # The admin lists only the dialogues of a facilitator's communities, by id (stories/permissions.py).
    search_fields = [index.FilterField("id"), index.SearchField("title"), index.AutocompleteField("title")]

    class Meta:
        ordering = ["-date", "title"]

    def __str__(self):
        return f"{self.title} ({self.date:%Y-%m-%d})" if self.date else self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unused_slug(Dialogue, self.title, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("stories:dialogue", args=[self.slug])

    @property
    def question_list(self) -> list[str]:
        """The questions asked, in order, without blank lines."""
        return [line.strip() for line in self.questions.splitlines() if line.strip()]


def unused_slug(model, text: str, *, exclude_pk=None, max_length: int = 200) -> str:
    """A slug made from this text that no other row of the model holds: "spring-dialogue", then "-2", "-3"."""
    base = slugify(text)[: max_length - 8].strip("-") or "dialogue"
    taken = set(model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


class ContentNote(models.Model):
    """What a visitor may meet in a story (grief, violence, discrimination), told before they listen or read. The list
    is the administrators' to keep; facilitators choose from it for each story."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.CharField(
        max_length=255, blank=True, help_text="One sentence a visitor reads before choosing to continue."
    )

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
