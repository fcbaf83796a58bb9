"""The database backend's own index: one row per public story, its facet values, and its transcript segments.

Full-text search lives beside these tables (migrations 0002 and 0003): on SQLite an FTS5 table of stemmed titles and
text and one of the words as written, for suggestions; on PostgreSQL tsvector columns with GIN indexes. Segments
have no full-text structure of their own: a page's moments are matched in Python. Written only by
search.backends.database.
"""

from django.db import models


class StoryDocument(models.Model):
    """What search knows about one story the public may see."""

    story = models.OneToOneField("stories.StoryPage", primary_key=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="The written story, themes and community, as plain text.")
    analyzer = models.CharField(max_length=20, help_text="english, spanish or simple: how words are stemmed.")
    language = models.CharField(max_length=12, db_index=True, help_text="The primary language subtag: en, es.")
    kind = models.CharField(max_length=10, db_index=True)
    community = models.CharField(max_length=150, blank=True, db_index=True, help_text="The community's slug.")
    community_name = models.CharField(max_length=150, blank=True)
    recorded_on = models.DateField(null=True, blank=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(
        null=True, blank=True, help_text="How long its recording plays, for the hours of recording insights count."
    )
    generation_count = models.PositiveSmallIntegerField(
        default=0, help_text="How many known generations take part; two or more makes a story intergenerational."
    )
    indexed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.title


class StoryFacetValue(models.Model):
    """One theme or generation a story counts under."""

    class Facet(models.TextChoices):
        THEME = "theme", "Theme"
        GENERATION = "generation", "Generation"

    document = models.ForeignKey(StoryDocument, on_delete=models.CASCADE, related_name="facet_values")
    facet = models.CharField(max_length=20, choices=Facet.choices)
    value = models.CharField(max_length=100)
    label = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "facet", "value"], name="one_facet_value_per_story")]
        indexes = [models.Index(fields=["facet", "value"])]

    def __str__(self):
        return f"{self.facet}={self.value}"


class SegmentDocument(models.Model):
    """A transcript segment of an indexed story: where a moment can start."""

    document = models.ForeignKey(StoryDocument, on_delete=models.CASCADE, related_name="segments")
    position = models.PositiveIntegerField()
    start = models.FloatField()
    end = models.FloatField()
    text = models.TextField()

    class Meta:
        ordering = ["document", "position"]

    def __str__(self):
        return f"{self.start:.1f}-{self.end:.1f}: {self.text[:60]}"


class IndexState(models.Model):
    """One row whose token changes with every write to the index. Writers update it first, so its row lock puts
    index writes in one order; each process compares it with the token of its in-memory columns (search.columns)."""

    SINGLETON = 1

    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token


class IndexChange(models.Model):
    """Which story a write to the index touched, so in-memory columns can catch up story by story. A row without a
    story stands for a rebuild: everything changed. Only the latest rows are kept."""

    token = models.CharField(max_length=32, help_text="The IndexState token this write set.")
    story_id = models.IntegerField(null=True, blank=True)

    def __str__(self):
        return f"{self.story_id or 'everything'} ({self.token})"


class IndexCheck(models.Model):
    """One run of the reconciler (`search_index verify`): the index compared with the visibility rule, both ways."""

    backend = models.CharField(max_length=20)
    checked_at = models.DateTimeField(db_index=True)
    indexed = models.PositiveIntegerField(help_text="Stories in the index.")
    public = models.PositiveIntegerField(help_text="Stories the rule lets the public see.")
    hidden_but_indexed = models.PositiveIntegerField(help_text="In the index though the rule hides them: drift.")
    missing = models.PositiveIntegerField(help_text="Public, not in the index, no refresh queued: drift.")
    pending = models.PositiveIntegerField(help_text="Public, not in the index yet, a refresh queued: not drift.")
    repaired = models.BooleanField(default=False)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self):
        return f"{self.checked_at:%Y-%m-%d %H:%M}: {self.drift} out of place"

    @property
    def drift(self) -> int:
        return self.hidden_but_indexed + self.missing
