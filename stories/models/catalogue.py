"""What stories are filed under: themes (the seven vital conditions), communities and the dialogues they hold, and
the content notes a story carries."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.search import index


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

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("place"),
        FieldPanel("description"),
        FieldPanel("image"),
    ]
    search_fields = [index.SearchField("name"), index.SearchField("place"), index.AutocompleteField("name")]

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
    date = models.DateField(null=True, blank=True)
    place = models.CharField(max_length=200, blank=True)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="dialogues")
    description = models.TextField(blank=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("date"),
        FieldPanel("place"),
        FieldPanel("community"),
        FieldPanel("description"),
    ]
    search_fields = [index.SearchField("title"), index.AutocompleteField("title")]

    class Meta:
        ordering = ["-date", "title"]

    def __str__(self):
        return f"{self.title} ({self.date:%Y-%m-%d})" if self.date else self.title


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
