"""The visibility rule's stored answer: which stories the public may see, kept as rows every listing reads by index.

`StoryPage.objects.visible_to_public()` stays the one definition of the rule. Evaluating it means correlated
`EXISTS` / `NOT EXISTS` over participants and consents for every story it is asked about, so a listing that asked it
of the whole archive would cost time in proportion to the archive. Instead, every change to an input of the rule
(stories/receivers.py) writes the answer for the stories it touched here, in the same transaction: listings, counts and
the sitemap page through these rows by index, and a page still asks the rule itself about the few stories it shows.

Only stories/services/public.py writes these tables.
"""

from django.db import models
from django.db.models import Q

from .catalogue import Community, Theme
from .pages import StoryPage


class PublicStoryQuerySet(models.QuerySet):
    def listed(self):
        """The stories the stored answer says the public may see."""
        return self.filter(is_public=True)


class PublicStory(models.Model):
    """One row for every story that has been public at least once; `is_public` is the rule's answer now.

    A row stays when its story is hidden, withdrawn or deleted (`story` holds no database constraint), so what was
    once public and is no longer can be told apart from what never was: harvesters are told to delete those records.
    """

    story = models.OneToOneField(
        StoryPage,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="public_entry",
    )
    is_public = models.BooleanField()
    changed_at = models.DateTimeField(
        help_text="When the story's public record last changed: shown, hidden, or edited while shown."
    )
    published_at = models.DateTimeField(help_text="When the story was first published: the order listings use.")
    community = models.ForeignKey(
        Community, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    objects = PublicStoryQuerySet.as_manager()

    class Meta:
        indexes = [
            # Partial: only the public rows, which are all a listing reads.
            models.Index(fields=["-published_at", "-story"], name="public_story_newest", condition=Q(is_public=True)),
            models.Index(
                fields=["community", "-published_at", "-story"],
                name="public_story_community_newest",
                condition=Q(is_public=True),
            ),
            models.Index(fields=["changed_at", "story"], name="public_story_changed"),
        ]

    def __str__(self):
        return f"story {self.story_id}: {'public' if self.is_public else 'hidden'}"


class PublicStoryTheme(models.Model):
    """A theme of a story the public may see, in the listing order: theme pages and counts read these by index."""

    story = models.ForeignKey(PublicStory, on_delete=models.CASCADE, db_constraint=False, related_name="themes")
    theme = models.ForeignKey(Theme, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    published_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "theme"], name="public_story_theme_once")]
        indexes = [models.Index(fields=["theme", "-published_at", "-story"], name="public_story_theme_newest")]

    def __str__(self):
        return f"story {self.story_id}: theme {self.theme_id}"


class PublicCount(models.Model):
    """How many stories the public may see in all, per community and per theme, kept as the answer changes, so a
    page that shows a count never counts the archive."""

    class Subject(models.TextChoices):
        ALL = "all", "All stories"
        COMMUNITY = "community", "Community"
        THEME = "theme", "Theme"

    subject = models.CharField(max_length=20, choices=Subject.choices)
    subject_id = models.BigIntegerField(default=0, help_text="The community's or theme's id; 0 for all stories.")
    stories = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "subject_id"], name="public_count_once")]

    def __str__(self):
        return f"{self.subject} {self.subject_id}: {self.stories}"
