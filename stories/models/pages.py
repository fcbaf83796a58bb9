"""The public site's pages: stories (with the one visibility rule), the story index, collections and the home page."""

import datetime
import json
from functools import lru_cache

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, HelpPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager, PageViewRestriction
from wagtail.query import PageQuerySet
from wagtail.search import index
from wagtail.url_routing import RouteResult

from ..admin_forms import WithinReachPageForm
from ..blocks import StoryBodyBlock
from ..generations import could_be_minor_condition, generations_of
from ..panels import RecordingPlayerPanel
from ..routes import story_routes
from ..validators import language_label, validate_language_code
from .catalogue import Community, ContentNote, Dialogue, Theme
from .chapters import ChaptersPanel
from .media import StoryKind, StoryMedia
from .people import Consent, StoryParticipant


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    FACILITATORS = "facilitators", "Facilitators only"
    PRIVATE = "private", "Private"
    # Never public: its facilitators may grant one person at a time a private link (stories/access_requests).
    ON_REQUEST = "on_request", "On request"


class StoryKeyword(TaggedItemBase):
    content_object = ParentalKey("stories.StoryPage", on_delete=models.CASCADE, related_name="tagged_keywords")


# The columns a story card reads (as_cards): the page's address is its url_path, its kind its recording's video codec.
CARD_FIELDS = ("title", "url_path", "summary", "recorded_on", "recording__video_codec", "community__name")


class StoryPageQuerySet(PageQuerySet):
    def visible_to_public(self, *, today: datetime.date | None = None):
        """The one rule for what the public may see.

        Live, public, past any embargo, not withdrawn, at least one participant, every participant's consent given
        with public scope and not withdrawn, and a guardian's consent for everyone who may have been a minor.
        """
        return self._released(visibility=Visibility.PUBLIC, scopes=[Consent.Scope.PUBLIC], today=today)

    def available_on_request(self, *, today: datetime.date | None = None):
        """Stories a facilitator may open to one requester by a private link: the rule's conditions, with visibility
        "on request" in place of public, and every participant's consent of either scope (public or research)."""
        return self._released(
            visibility=Visibility.ON_REQUEST, scopes=[Consent.Scope.PUBLIC, Consent.Scope.RESEARCH], today=today
        )

    def _released(self, *, visibility: str, scopes: list[str], today: datetime.date | None):
        today = today or timezone.localdate()
        participants = StoryParticipant.objects.filter(page=OuterRef("pk"))
        public_consent = Consent.objects.filter(
            story=OuterRef(OuterRef("pk")),
            person=OuterRef("person"),
            # The public rule's SQL stays as it was: one scope is compared, not listed.
            **({"scope": scopes[0]} if len(scopes) == 1 else {"scope__in": scopes}),
            withdrawn_at__isnull=True,
        )
        without_consent = participants.filter(~Exists(public_consent))
        possible_minors = participants.filter(
            could_be_minor_condition(birth_year="person__birth_year", recorded_on="page__recorded_on", today=today)
        )
        minors_without_guardian = possible_minors.filter(
            ~Exists(public_consent.exclude(guardian_name="").filter(guardian_consented_on__isnull=False))
        )
        return (
            self.live()
            .public()
            .filter(visibility=visibility, withdrawn_at__isnull=True)
            .filter(Q(embargo_until__isnull=True) | Q(embargo_until__lte=today))
            .filter(Exists(participants))
            .exclude(Exists(without_consent))
            .exclude(Exists(minors_without_guardian))
        )

    def as_cards(self):
        """What a story card shows (stories/includes/story_card.html: its title and address, summary, date, kind,
        community and content notes) and nothing more, read for a whole list in three queries. A story's page is
        some forty columns, its recording twenty: reading only what a card shows is a quarter of what a related
        story costs a story page."""
        return self.select_related("community", "recording").only(*CARD_FIELDS).prefetch_related("content_notes")


StoryPageManager = PageManager.from_queryset(StoryPageQuerySet)


class RuleAskedStoryByStory:
    """The public rule as a values_list() of the given fields, asked about given stories, compiled once.

    Building the rule's nested subqueries is Python work in Django's ORM, a few milliseconds each time, while the
    query they make answers in a tenth of one; so the rule's own query is compiled once, with the asked ids as one
    parameter, and run as it is. On PostgreSQL each story is asked on its own: a plain `pk IN (...)` lets the planner
    join the rule's subqueries across all the stories at once, and when its statistics misjudge the tables (as right
    after a bulk import) it hashes every participant and consent in the archive to answer for twenty stories. In a
    subquery the planner may not merge with the list (OFFSET 0), each of the rule's lookups is by that story's id.
    SQLite reads the ids from a JSON array, each by the story table's primary key."""

    def __init__(self, rule, alias: str):
        if connections[alias].vendor == "postgresql":
            sql, params = rule.filter(pk=RawSQL("asked.id", ())).order_by().query.get_compiler(alias).as_sql()
            self.sql = (
                f"SELECT shown.* FROM unnest(%s::integer[]) AS asked(id) CROSS JOIN LATERAL ({sql} OFFSET 0) AS shown"
            )
            self.params = tuple(params)
        else:
            asked = RawSQL("SELECT value FROM json_each(%s)", (_ASKED,))
            self.sql, params = rule.filter(pk__in=asked).order_by().query.get_compiler(alias).as_sql()
            self.params, self.asked_at = tuple(params), params.index(_ASKED)
        self.alias, self.vendor = alias, connections[alias].vendor

    def subquery(self, story_ids) -> RawSQL:
        asked = sorted({int(pk) for pk in story_ids})
        if self.vendor == "postgresql":
            return RawSQL(self.sql, (asked, *self.params))
        params = list(self.params)
        params[self.asked_at] = json.dumps(asked)
        return RawSQL(self.sql, tuple(params))

    def __call__(self, story_ids) -> list[tuple]:
        if not story_ids:
            return []
        subquery = self.subquery(story_ids)
        with connections[self.alias].cursor() as cursor:
            cursor.execute(subquery.sql, subquery.params)
            return cursor.fetchall()


# What stands for the asked ids while the rule is compiled: no parameter of the rule's own is this string.
_ASKED = "\x00asked story ids\x00"


@lru_cache(maxsize=16)
def _rule_compiled(alias: str, today: datetime.date, restricted: tuple[str, ...], fields: tuple[str, ...]):
    return RuleAskedStoryByStory(StoryPage.objects.all().visible_to_public(today=today).values_list(*fields), alias)


def public_rule_compiled(*fields: str) -> RuleAskedStoryByStory:
    """The public rule (`StoryPage.objects.visible_to_public()`), compiled again only when the day or the pages behind
    a view restriction change: Wagtail's public() reads the restrictions once, when the queryset is built, so a
    compiled form kept past a new restriction would still show the pages behind it. Both are part of the key."""
    alias = router.db_for_read(StoryPage)
    restricted = tuple(PageViewRestriction.objects.using(alias).order_by("pk").values_list("page__path", flat=True))
    return _rule_compiled(alias, timezone.localdate(), restricted, fields or ("pk",))


def public_among(story_ids) -> RawSQL:
    """A subquery of the ids among these that the public rule admits, to filter a queryset by (`pk__in=`)."""
    return public_rule_compiled("pk").subquery(story_ids)


def rule_admits(story_ids) -> set[int]:
    """Which of these story ids the public rule admits, in one query of the rule's compiled form."""
    return {row[0] for row in public_rule_compiled("pk")(story_ids)}


# The query parameter by which a visitor who has read a story's content notes continues to it, without JavaScript.
CONTINUE_PARAMETER = "continue"
# The order a story lists its participants in: their place in the list, then the order they were added.
PARTICIPANT_ORDER = ("sort_order", "pk")


def participants_as_listed():
    """Participants with their people in the order their story lists them; prefetch it as "participants" to read
    many stories' people and generations in one query."""
    return StoryParticipant.objects.select_related("person").order_by(*PARTICIPANT_ORDER)


class WithinReach:
    """Every page of the archive answers Wagtail's permission questions (every admin view, bulk action and menu asks
    page.permissions_for_user) through the one tester of stories/permissions.py: stories and collections within the
    user's reach, the home page and the story index the administrators'."""

    def permissions_for_user(self, user):
        from ..permissions import StoryPermissionTester

        return StoryPermissionTester(user, self)


# What a story's own page reads of the rows it points to (its recording, community and dialogue), joined into the
# query that finds the story by its address.
PAGE_READS = ("recording", "community", "dialogue")


def story_at(parent_path: str, slug: str) -> "StoryPage | None":
    """The story with this slug under the page at this url_path ("/home/stories/"), with the rows its page shows, in
    one query found by the slug's index; None when no story is there."""
    return StoryPage.objects.select_related(*PAGE_READS).filter(slug=slug, url_path=f"{parent_path}{slug}/").first()


class StoryIndexPage(WithinReach, Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["stories.StoryPage"]
    max_count = 1

    def route(self, request, path_components):
        """A story is read as a story in one query, with the rows its page shows of its recording, community and
        dialogue, where Wagtail's route reads the page, then its story row, then each of those."""
        if path_components:
            story = story_at(self.url_path, path_components[0])
            if story is not None:
                story._cached_parent_obj = self
                return story.route(request, path_components[1:])
        return super().route(request, path_components)

    def serve(self, request, *args, **kwargs):
        from ..selectors import InvalidCursor
        from ..views import listing_refused

        try:
            return super().serve(request, *args, **kwargs)
        except InvalidCursor as error:
            return listing_refused(request, error)

    def get_context(self, request, *args, **kwargs):
        from ..views import story_list_for

        context = super().get_context(request, *args, **kwargs)
        # Every story lives under the one story index (max_count = 1), so its listing is the whole stored answer.
        context["stories"] = story_list_for(request)
        return context


class StoryPage(WithinReach, Page):
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
    content_notes = ParentalManyToManyField(
        ContentNote,
        blank=True,
        related_name="stories",
        help_text="Told before the story plays or is read, and beside its title in lists and search.",
    )
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
        RecordingPlayerPanel(heading="Listen to the recording"),
        ChaptersPanel(
            "chapters",
            label="Chapter",
            heading="Chapters of the recording",
            help_text="Named places in the recording, listed on the story's page and in podcast apps. "
            "Times are in seconds from the start.",
        ),
        FieldPanel("body"),
        FieldPanel("cover_image"),
        MultiFieldPanel(
            [FieldPanel("recorded_on"), FieldPanel("language"), FieldPanel("community"), FieldPanel("dialogue")],
            heading="Where and when",
        ),
        MultiFieldPanel(
            [FieldPanel("themes", widget=forms.CheckboxSelectMultiple), FieldPanel("keywords")], heading="Themes"
        ),
        FieldPanel("content_notes", widget=forms.CheckboxSelectMultiple),
        InlinePanel("participants", label="Participants", heading="Who tells and hears this story"),
        MultiFieldPanel(
            [
                HelpPanel(
                    "The public sees a story only when it is published, public, past its embargo, and every "
                    "participant's consent is on record (a guardian's too for a minor). A story \"on request\" "
                    "is never public: visitors may ask for a private link, which its community's facilitators "
                    "approve or decline under Requests for access."
                ),
                FieldPanel("visibility"),
                FieldPanel("embargo_until"),
            ],
            heading="Who may see it",
        ),
    ]
    # A facilitator's story is of one of their communities, with their dialogues and people (stories/admin_forms.py).
    base_form_class = WithinReachPageForm
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
        indexes = [
            # Search's "available on request" reads the few stories on request among an archive's many; only those
            # are in the index, so it costs public stories nothing.
            models.Index(fields=["visibility"], condition=Q(visibility=Visibility.ON_REQUEST), name="story_on_request"),
        ]

    def clean(self):
        super().clean()
        if self.embargo_until and self.recorded_on and self.embargo_until < self.recorded_on:
            raise ValidationError({"embargo_until": "The embargo cannot end before the story was recorded."})

    @property
    def status_string(self):
        """The admin lists a withdrawn story as withdrawn: it is an empty shell, not a draft waiting to go out."""
        if self.withdrawn_at:
            return "withdrawn"
        return super().status_string

    @property
    def kind(self) -> str:
        return self.recording.kind if self.recording_id else StoryKind.TEXT

    @property
    def language_label(self) -> str:
        return language_label(self.language)

    @cached_property
    def participants_listed(self) -> list[StoryParticipant]:
        """The participants with their people, in the story's order, read once (or from a prefetch when there is
        one): the page, its citation, its metadata and its related stories all name them."""
        if "participants" in getattr(self, "_prefetched_objects_cache", {}):
            return list(self.participants.all())
        return list(self.participants.select_related("person").order_by(*PARTICIPANT_ORDER))

    @property
    def people(self):
        """The participants' people in the participants' order."""
        return [participant.person for participant in self.participants_listed]

    @property
    def generations(self):
        """The generations among the participants, in the participants' order, each once."""
        return generations_of(person.birth_year for person in self.people)

    def is_visible_to_public(self) -> bool:
        return self.pk is not None and self.pk in rule_admits([self.pk])

    def is_available_on_request(self) -> bool:
        return StoryPage.objects.available_on_request().filter(pk=self.pk).exists()

    def can_be_seen_by(self, user) -> bool:
        return self.is_visible_to_public() or self.editable_by(user)

    def editable_by(self, user) -> bool:
        return bool(user and user.is_authenticated and self.permissions_for_user(user).can_edit())

    def route(self, request, path_components):
        if len(path_components) == 1 and path_components[0] in story_routes and self.live:
            return RouteResult(self, kwargs={"subview": path_components[0]})
        return super().route(request, path_components)

    def get_context(self, request, *args, story_public: bool | None = None, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # The rule's answer for this story, asked once when it was served (None in a preview): what the page renders
        # reads it rather than asking the rule again.
        context["story_public"] = story_public
        context["participants"] = self.participants_listed
        # Read once as objects, not rows: the page names its themes three times, and a preview holds them unsaved.
        context["story_themes"] = list(self.themes.all())
        # Read as objects, not rows: a preview holds its content notes in memory, unsaved.
        context["content_notes"] = list(self.content_notes.all())
        context["notes_heeded"] = not context["content_notes"] or request.GET.get(CONTINUE_PARAMETER) == "1"
        # Read through the relation, not the table: a preview holds its chapters in memory, unsaved.
        context["chapters"] = list(self.chapters.order_by("start_seconds")) if self.recording_id else []
        query = request.GET.copy()
        query[CONTINUE_PARAMETER] = "1"
        context["continue_url"] = f"?{query.urlencode()}#story-content"
        return context

    def get_view_restrictions(self):
        """No restriction applies to a story the public rule admits: the rule admits none behind a view restriction
        (Wagtail's public()). Wagtail asks this just before serve(), which takes the answer rather than asking the
        rule again; so a public story's page makes no query of the restrictions beyond the rule's own. Any other story
        (hidden, or an alias, whose restrictions are its original's) has Wagtail read its restrictions, so a
        restricted story still asks for its password or a login."""
        if self.alias_of_id is None and self.is_visible_to_public():
            self._admitted_before_serve = True
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()

    def serve(self, request, *args, subview: str | None = None, **kwargs):
        public = self.__dict__.pop("_admitted_before_serve", False) or self.is_visible_to_public()
        if not public and not self.editable_by(request.user):
            raise Http404("No story here.")
        if subview:
            response = story_routes[subview](request, self)
        else:
            response = super().serve(request, *args, story_public=public, **kwargs)
        # A story can be hidden at any moment: a shared cache may keep a public answer only to ask again each time.
        response["Cache-Control"] = "no-cache" if public else "private, no-store"
        return response

    def get_sitemap_urls(self, request=None):
        # The sitemap lists stories from stories/sitemaps.py; anything else that asks a story is answered by the rule.
        return super().get_sitemap_urls(request) if self.is_visible_to_public() else []


class CollectionPage(WithinReach, Page):
    intro = RichTextField(blank=True)
    curator = models.CharField(max_length=200, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("curator"),
        InlinePanel("entries", label="Stories", heading="Stories, in the order they play"),
    ]
    # A facilitator adds the stories of their own communities only (stories/admin_forms.py).
    base_form_class = WithinReachPageForm
    parent_page_types = ["stories.HomePage"]
    subpage_types = []

    @staticmethod
    def open_to_public():
        """Collections the public may open: live, with no view restriction on them or above them."""
        return CollectionPage.objects.live().public()

    def public_entries(self):
        """The entries whose stories the public may see, in order."""
        return list(self.entries_shown(self.entries.select_related("story", "story__community")))

    @staticmethod
    def entries_shown(entries):
        """These entries, in order, with only the stories the stored answer lists and the rule, asked about each of
        them, allows: the cost follows the collection, not the archive."""
        entries = list(entries.filter(story__public_entry__is_public=True))
        allowed = set(
            StoryPage.objects.visible_to_public()
            .filter(pk__in=[entry.story_id for entry in entries])
            .values_list("pk", flat=True)
        )
        return [entry for entry in entries if entry.story_id in allowed]


class CollectionEntry(Orderable):
    page = ParentalKey(CollectionPage, on_delete=models.CASCADE, related_name="entries")
    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    start_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Where listening starts, in seconds (135 for 02:15)."
    )
    end_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Where listening stops, in seconds (170 for 02:50); empty to play to the end of the story.",
    )

    panels = [FieldPanel("story"), FieldPanel("note"), FieldPanel("start_seconds"), FieldPanel("end_seconds")]

    def clean(self):
        super().clean()
        if self.end_seconds is not None and self.end_seconds <= (self.start_seconds or 0):
            raise ValidationError({"end_seconds": "The end must come after the start (in seconds)."})

    @property
    def clip(self):
        """The stretch this entry plays, as a ?t= link asks for it; None for the whole story."""
        from ..timecodes import Clip

        if not self.start_seconds and self.end_seconds is None:
            return None
        return Clip(self.start_seconds or 0, self.end_seconds)


class HomePage(WithinReach, Page):
    intro = RichTextField(blank=True)
    featured_collection = models.ForeignKey(
        CollectionPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("featured_collection")]
    subpage_types = ["stories.StoryIndexPage", "stories.CollectionPage"]
    max_count = 1

    def route(self, request, path_components):
        """A story is read at once by its address, in one query where Wagtail's route reads its index, then the
        story, then its story row. Any other child that only passes the route on is taken as its own type without
        reading its own fields, which routing does not use; a child that is itself served is read whole."""
        if len(path_components) < 2:
            return super().route(request, path_components)
        # A story's address (its index's slug, then its own) is read as a story at once, without its index.
        story = story_at(f"{self.url_path}{path_components[0]}/", path_components[1])
        if story is not None:
            return story.route(request, path_components[2:])
        child = self.get_children().filter(slug=path_components[0]).first()
        if child is None:
            raise Http404("No page here.")
        child._cached_parent_obj = self
        return child.specific_deferred.route(request, path_components[1:])

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        from ..selectors import public_stories_listed

        context["recent_stories"] = public_stories_listed(size=6).stories
        context["themes"] = Theme.objects.all()
        context["featured_collection"] = self.public_featured_collection()
        return context

    def public_featured_collection(self) -> CollectionPage | None:
        """The featured collection if the public may open it: live, with no view restriction on it or above it."""
        if self.featured_collection_id is None:
            return None
        return CollectionPage.open_to_public().filter(pk=self.featured_collection_id).first()
