"""The archive's content: themes, communities, dialogues, people, stories, recordings, consent and collections."""

import datetime
import hashlib
import secrets
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, HelpPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager
from wagtail.query import PageQuerySet
from wagtail.search import index
from wagtail.url_routing import RouteResult

from .blocks import StoryBodyBlock
from .generations import ADULT_AGE, generation_for
from .routes import story_routes
from .validators import language_label, validate_birth_year, validate_language_code


def private_storage():
    """Recordings and their derived files: a storage root that no static URL serves."""
    return storages["private"]


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

    panels = [FieldPanel("display_name"), FieldPanel("full_name"), FieldPanel("birth_year")]
    search_fields = [
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
    created_at = models.DateTimeField(auto_now_add=True)

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


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    FACILITATORS = "facilitators", "Facilitators only"
    PRIVATE = "private", "Private"


class StoryKeyword(TaggedItemBase):
    content_object = ParentalKey("stories.StoryPage", on_delete=models.CASCADE, related_name="tagged_keywords")


class StoryPageQuerySet(PageQuerySet):
    def visible_to_public(self, *, today: datetime.date | None = None):
        """The one rule for what the public may see.

        Live, public, past any embargo, not withdrawn, at least one participant, every participant's consent given
        with public scope and not withdrawn, and a guardian's consent for everyone who may have been a minor.
        """
        today = today or timezone.localdate()
        participants = StoryParticipant.objects.filter(page=OuterRef("pk"))
        public_consent = Consent.objects.filter(
            story=OuterRef(OuterRef("pk")),
            person=OuterRef("person"),
            scope=Consent.Scope.PUBLIC,
            withdrawn_at__isnull=True,
        )
        without_consent = participants.filter(~Exists(public_consent))
        possible_minors = participants.annotate(
            recorded_year=Coalesce(ExtractYear("page__recorded_on"), Value(today.year))
        ).filter(person__birth_year__gte=F("recorded_year") - ADULT_AGE)
        minors_without_guardian = possible_minors.filter(
            ~Exists(public_consent.exclude(guardian_name="").filter(guardian_consented_on__isnull=False))
        )
        return (
            self.live()
            .public()
            .filter(visibility=Visibility.PUBLIC, withdrawn_at__isnull=True)
            .filter(Q(embargo_until__isnull=True) | Q(embargo_until__lte=today))
            .filter(Exists(participants))
            .exclude(Exists(without_consent))
            .exclude(Exists(minors_without_guardian))
        )


StoryPageManager = PageManager.from_queryset(StoryPageQuerySet)


class StoryIndexPage(Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["stories.StoryPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        stories = StoryPage.objects.visible_to_public().child_of(self).order_by("-first_published_at")
        context["stories"] = Paginator(stories.select_related("community"), 20).get_page(request.GET.get("page"))
        return context


class StoryPage(Page):
    summary = models.TextField(max_length=1000, blank=True)
    body = StreamField(StoryBodyBlock(), blank=True, help_text="The written story, or notes that go with a recording.")
    recording = models.ForeignKey(StoryMedia, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    cover_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_on = models.DateField(null=True, blank=True)
    language = models.CharField(
        max_length=35, default="en", validators=[validate_language_code], help_text="A BCP 47 code: en, es, es-MX, tl."
    )
    community = models.ForeignKey(Community, null=True, blank=False, on_delete=models.PROTECT, related_name="stories")
    dialogue = models.ForeignKey(Dialogue, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    themes = ParentalManyToManyField(Theme, blank=True, related_name="stories")
    keywords = ClusterTaggableManager(through=StoryKeyword, blank=True)
    visibility = models.CharField(max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC)
    embargo_until = models.DateField(
        null=True, blank=True, help_text="Kept from the public until this date, then published by itself."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StoryPageManager()

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("recording", read_only=True),
        FieldPanel("body"),
        FieldPanel("cover_image"),
        MultiFieldPanel(
            [FieldPanel("recorded_on"), FieldPanel("language"), FieldPanel("community"), FieldPanel("dialogue")],
            heading="Where and when",
        ),
        MultiFieldPanel(
            [FieldPanel("themes", widget=forms.CheckboxSelectMultiple), FieldPanel("keywords")], heading="Themes"
        ),
        InlinePanel("participants", label="Participants", heading="Who tells and hears this story"),
        MultiFieldPanel(
            [
                HelpPanel(
                    "The public sees a story only when it is published, public, past its embargo, and every "
                    "participant's consent is on record (a guardian's too for a minor)."
                ),
                FieldPanel("visibility"),
                FieldPanel("embargo_until"),
            ],
            heading="Who may see it",
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("visibility"),
        index.FilterField("language"),
        index.FilterField("community"),
        index.RelatedFields("themes", [index.SearchField("name")]),
    ]
    parent_page_types = ["stories.StoryIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "story"
        verbose_name_plural = "stories"

    def clean(self):
        super().clean()
        if self.embargo_until and self.recorded_on and self.embargo_until < self.recorded_on:
            raise ValidationError({"embargo_until": "The embargo cannot end before the story was recorded."})

    @property
    def kind(self) -> str:
        return self.recording.kind if self.recording_id else StoryKind.TEXT

    @property
    def language_label(self) -> str:
        return language_label(self.language)

    @cached_property
    def people(self):
        return [p.person for p in self.participants.select_related("person")]

    @property
    def generations(self):
        """The generations among the participants, oldest first, without repeats."""
        seen = {}
        for person in self.people:
            seen.setdefault(person.generation.slug, person.generation)
        return list(seen.values())

    def is_visible_to_public(self) -> bool:
        return StoryPage.objects.visible_to_public().filter(pk=self.pk).exists()

    def can_be_seen_by(self, user) -> bool:
        return self.is_visible_to_public() or self.editable_by(user)

    def editable_by(self, user) -> bool:
        return bool(user and user.is_authenticated and self.permissions_for_user(user).can_edit())

    def route(self, request, path_components):
        if len(path_components) == 1 and path_components[0] in story_routes and self.live:
            return RouteResult(self, kwargs={"subview": path_components[0]})
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["participants"] = self.participants.select_related("person")
        return context

    def serve(self, request, *args, subview: str | None = None, **kwargs):
        public = self.is_visible_to_public()
        if not public and not self.editable_by(request.user):
            raise Http404("No story here.")
        if subview:
            response = story_routes[subview](request, self)
        else:
            response = super().serve(request, *args, **kwargs)
        if not public:
            response["Cache-Control"] = "private, no-store"
        return response

    def get_sitemap_urls(self, request=None):
        return super().get_sitemap_urls(request) if self.is_visible_to_public() else []


class StoryParticipant(Orderable):
    class Role(models.TextChoices):
        STORYTELLER = "storyteller", "Storyteller"
        INTERVIEWER = "interviewer", "Interviewer"
        LISTENER = "listener", "Listener"

    page = ParentalKey(StoryPage, on_delete=models.CASCADE, related_name="participants")
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

    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="consents")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    given_by = models.CharField(max_length=200, help_text="Who gave it: the person, or who signed for them.")
    given_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, choices=Method.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.PUBLIC)
    guardian_name = models.CharField(max_length=200, blank=True, help_text="Required for a minor.")
    guardian_consented_on = models.DateField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    panels = [
        FieldPanel("story"),
        FieldPanel("person"),
        FieldPanel("given_by"),
        FieldPanel("given_at"),
        FieldPanel("method"),
        FieldPanel("scope"),
        MultiFieldPanel([FieldPanel("guardian_name"), FieldPanel("guardian_consented_on")], heading="Guardian"),
        FieldPanel("withdrawn_at"),
    ]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "person"], name="one_consent_per_person_per_story")]
        ordering = ["-given_at"]

    def __str__(self):
        return f"{self.person} for “{self.story}”"

    def clean(self):
        super().clean()
        if bool(self.guardian_name) != bool(self.guardian_consented_on):
            raise ValidationError("A guardian's consent needs both the guardian's name and the date they agreed.")

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class CollectionPage(Page):
    intro = RichTextField(blank=True)
    curator = models.CharField(max_length=200, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("curator"),
        InlinePanel("entries", label="Stories", heading="Stories, in the order they play"),
    ]
    parent_page_types = ["stories.HomePage"]
    subpage_types = []

    def public_entries(self):
        """The entries whose stories the public may see, in order."""
        visible = StoryPage.objects.visible_to_public()
        return list(self.entries.select_related("story", "story__community").filter(story__in=visible))


class CollectionEntry(Orderable):
    page = ParentalKey(CollectionPage, on_delete=models.CASCADE, related_name="entries")
    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    start_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Where listening starts, in seconds (135 for 02:15)."
    )

    panels = [FieldPanel("story"), FieldPanel("note"), FieldPanel("start_seconds")]

    @property
    def start_label(self) -> str:
        from .timecodes import format_clock

        return format_clock(self.start_seconds or 0)


class HomePage(Page):
    intro = RichTextField(blank=True)
    featured_collection = models.ForeignKey(
        CollectionPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("featured_collection")]
    subpage_types = ["stories.StoryIndexPage", "stories.CollectionPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["recent_stories"] = (
            StoryPage.objects.visible_to_public().select_related("community").order_by("-first_published_at")[:6]
        )
        context["themes"] = Theme.objects.all()
        collection = self.featured_collection
        context["featured_collection"] = collection if collection and collection.live else None
        return context


def invite_token() -> str:
    return secrets.token_urlsafe(24)


def manage_token_digest(token: str) -> str:
    """The manage link is kept only as a digest, so a copy of the database cannot open anyone's story."""
    return hashlib.sha256(token.encode()).hexdigest()


class InviteQuerySet(models.QuerySet):
    def usable(self, *, now: datetime.datetime | None = None):
        now = now or timezone.now()
        return self.filter(expires_at__gt=now, use_count__lt=F("max_uses"), revoked=False)


class Invite(models.Model):
    """A share link a facilitator hands out: /share/<token>/ lets storytellers send stories into one community."""

    token = models.CharField(max_length=64, unique=True, default=invite_token, editable=False)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="invites")
    dialogue = models.ForeignKey(Dialogue, null=True, blank=True, on_delete=models.SET_NULL, related_name="invites")
    label = models.CharField(max_length=200, blank=True, help_text="For facilitators: who the link is for.")
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=20, help_text="How many stories this link may send.")
    use_count = models.PositiveIntegerField(default=0, editable=False)
    revoked = models.BooleanField(default=False, help_text="Tick to stop the link at once.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InviteQuerySet.as_manager()

    panels = [
        FieldPanel("community"),
        FieldPanel("dialogue"),
        FieldPanel("label"),
        FieldPanel("expires_at"),
        FieldPanel("max_uses"),
        FieldPanel("revoked"),
    ]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.label or f"Invite for {self.community}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("stories:share", args=[self.token])

    @property
    def is_usable(self) -> bool:
        return not self.revoked and self.expires_at > timezone.now() and self.use_count < self.max_uses


class ShareUpload(models.Model):
    """A recording arriving in pieces; it survives a dropped connection and resumes at the stored offset."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invite = models.ForeignKey(Invite, on_delete=models.CASCADE, related_name="uploads")
    length = models.PositiveBigIntegerField(help_text="The size the browser announced, in bytes.")
    original_filename = models.CharField(max_length=255, blank=True)
    recording = models.OneToOneField(
        StoryMedia, null=True, blank=True, on_delete=models.SET_NULL, related_name="share_upload"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.id)


class StorySubmission(models.Model):
    """What a storyteller sent through an invite, and the digest of their private manage link."""

    story = models.OneToOneField(StoryPage, on_delete=models.CASCADE, related_name="submission")
    invite = models.ForeignKey(Invite, null=True, on_delete=models.SET_NULL, related_name="submissions")
    manage_token_digest = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True, help_text="Only to send the manage link; never public.")
    consent_wording = models.TextField(help_text="The consent text exactly as the storyteller saw it.")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"Submission of story {self.story_id}"


class CorrectionRequest(models.Model):
    """A storyteller's note asking a facilitator to fix something in their story."""

    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="correction_requests")
    note = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    panels = [FieldPanel("story", read_only=True), FieldPanel("note", read_only=True), FieldPanel("resolved_at")]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Correction for story {self.story_id}"


class Withdrawal(models.Model):
    """The audit trail of a withdrawal. It holds no content: who asked, who recorded it, when, what was removed."""

    class RequestedBy(models.TextChoices):
        STORYTELLER = "storyteller", "The storyteller, through their private link"
        FACILITATOR = "facilitator", "A facilitator, for a participant"

    story_id_removed = models.PositiveBigIntegerField(help_text="The story's id; the story itself keeps no content.")
    story = models.ForeignKey(StoryPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="withdrawals")
    requested_by = models.CharField(max_length=20, choices=RequestedBy.choices)
    participant = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(default=timezone.now)
    removed = models.JSONField(default=list, help_text="What was deleted, by kind and size; never the content.")

    class Meta:
        ordering = ["-withdrawn_at"]

    def __str__(self):
        return f"Withdrawal of story {self.story_id_removed} on {self.withdrawn_at:%Y-%m-%d}"
