"""People, their part in a story and their consent: the data the visibility rule reads."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import Orderable
from wagtail.search import index

from ..admin_forms import PersonForm, WithinReachModelForm
from ..generations import generation_for
from ..validators import validate_birth_year


class Person(index.Indexed, models.Model):
    """Someone who tells or hears a story. Only the display name is ever public."""

    display_name = models.CharField(max_length=120, help_text="The name the public sees.")
    full_name = models.CharField(max_length=200, blank=True, help_text="Never shown to the public.")
    birth_year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[validate_birth_year],
        help_text="Optional and never public. Used to derive the generation and whether a guardian must consent.",
    )
    # Where they were recorded: the facilitator's community who added them, or the invite's they came through. They
    # also belong to the communities of the stories they take part in (stories/permissions.py, RECORD_BELONGING).
    community = models.ForeignKey(
        "stories.Community",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        help_text="The community whose facilitators keep this person's record, with those of their stories.",
    )

    panels = [FieldPanel("display_name"), FieldPanel("full_name"), FieldPanel("birth_year"), FieldPanel("community")]
    base_form_class = PersonForm
    search_fields = [
        # The admin lists only the people of a facilitator's communities, by id (stories/permissions.py).
        index.FilterField("id"),
        index.SearchField("display_name"),
        index.SearchField("full_name"),
        index.AutocompleteField("display_name"),
    ]

    class Meta:
        ordering = ["display_name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.display_name

    @property
    def generation(self):
        return generation_for(self.birth_year)


class StoryParticipant(Orderable):
    class Role(models.TextChoices):
        STORYTELLER = "storyteller", "Storyteller"
        INTERVIEWER = "interviewer", "Interviewer"
        LISTENER = "listener", "Listener"

    page = ParentalKey("stories.StoryPage", on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STORYTELLER)

    panels = [FieldPanel("person"), FieldPanel("role")]

    def __str__(self):
        return f"{self.person} ({self.get_role_display()})"


class Consent(models.Model):
    """One participant's consent for one story. It is data: the visibility rule reads it."""

    class Method(models.TextChoices):
        SIGNED_FORM = "signed_form", "Signed form"
        VERBAL = "verbal", "Verbal, on the recording"
        ONLINE_FORM = "online_form", "Online form"

    class Scope(models.TextChoices):
        PUBLIC = "public", "Public archive"
        RESEARCH = "research", "Research only"

    story = models.ForeignKey("stories.StoryPage", on_delete=models.CASCADE, related_name="consents")
    # Empty only once the story is withdrawn: the record then keeps no one, just that consent was withdrawn and when.
    person = models.ForeignKey(Person, null=True, on_delete=models.PROTECT, related_name="consents")
    given_by = models.CharField(max_length=200, help_text="Who gave it: the person, or who signed for them.")
    given_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, choices=Method.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.PUBLIC)
    guardian_name = models.CharField(max_length=200, blank=True, help_text="Required for a minor.")
    guardian_consented_on = models.DateField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    on_request_details_listed = models.BooleanField(
        "Title and summary may be shown for a story on request",
        default=False,
        help_text='For a story whose visibility is "on request": its title and summary may appear on its request '
        'page and in search as "available on request". Without it, only its community is named.',
    )

    panels = [
        FieldPanel("story"),
        FieldPanel("person"),
        FieldPanel("given_by"),
        FieldPanel("given_at"),
        FieldPanel("method"),
        FieldPanel("scope"),
        MultiFieldPanel([FieldPanel("guardian_name"), FieldPanel("guardian_consented_on")], heading="Guardian"),
        FieldPanel("withdrawn_at"),
        FieldPanel("on_request_details_listed"),
    ]
    base_form_class = WithinReachModelForm

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "person"], name="one_consent_per_person_per_story")]
        ordering = ["-given_at"]

    def __str__(self):
        if self.person is None:
            return f"Withdrawn consent for “{self.story}”"
        return f"{self.person} for “{self.story}”"

    def clean(self):
        super().clean()
        if bool(self.guardian_name) != bool(self.guardian_consented_on):
            raise ValidationError("A guardian's consent needs both the guardian's name and the date they agreed.")

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
