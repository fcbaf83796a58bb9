"""Factories for tests and the demo seeder."""

import datetime

import factory
import wagtail_factories
from django.utils import timezone
from django.utils.text import slugify

from .generations import could_be_minor
from .models import (
    Chapter,
    CollectionEntry,
    CollectionPage,
    Community,
    Consent,
    Dialogue,
    HomePage,
    Person,
    StoryIndexPage,
    StoryPage,
    StoryParticipant,
    Theme,
    Visibility,
)


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Community {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    place = "Springfield, IL"


class DialogueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dialogue

    title = factory.Sequence(lambda n: f"Dialogue {n}")
    date = datetime.date(2026, 5, 1)
    community = factory.SubFactory(CommunityFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    display_name = factory.Sequence(lambda n: f"Storyteller {n}")
    full_name = factory.LazyAttribute(lambda o: f"{o.display_name} Fullname")
    birth_year = 1950


def story_index() -> StoryIndexPage:
    return StoryIndexPage.objects.get()


class StoryPageFactory(wagtail_factories.PageFactory):
    """A story under the story index. Pass participants=[...] people to add them; consent is separate."""

    class Meta:
        model = StoryPage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Story {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    parent = factory.LazyFunction(story_index)
    summary = "A story told at the dialogue."
    community = factory.SubFactory(CommunityFactory)
    recorded_on = datetime.date(2026, 5, 1)
    language = "en"
    visibility = Visibility.PUBLIC

    @factory.post_generation
    def participants(self, create, people, **kwargs):
        for order, person in enumerate(people or []):
            StoryParticipant.objects.create(page=self, person=person, sort_order=order)

    @factory.post_generation
    def themes(self, create, themes, **kwargs):
        if themes:
            self.themes.set(themes)
            self.save()  # a ParentalManyToManyField is written when the page is saved


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    story = factory.SubFactory(StoryPageFactory)
    person = factory.SubFactory(PersonFactory)
    given_by = factory.LazyAttribute(lambda o: o.person.display_name)
    given_at = factory.LazyFunction(timezone.now)
    method = Consent.Method.SIGNED_FORM
    scope = Consent.Scope.PUBLIC


def public_story(*, people=None, themes=None, **fields) -> StoryPage:
    """A published story that passes the visibility rule: every participant consented, guardians for minors."""
    people = people if people is not None else [PersonFactory()]
    story = StoryPageFactory(participants=people, themes=themes, **fields)
    recorded_on = story.recorded_on or timezone.localdate()
    for person in people:
        guardian = {}
        if could_be_minor(person.birth_year, recorded_on.year):
            guardian = {"guardian_name": "A. Guardian", "guardian_consented_on": recorded_on}
        ConsentFactory(story=story, person=person, **guardian)
    return story


class CollectionPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = CollectionPage

    title = factory.Sequence(lambda n: f"Collection {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    parent = factory.LazyFunction(lambda: HomePage.objects.get())
    curator = "The facilitators"


class CollectionEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollectionEntry

    page = factory.SubFactory(CollectionPageFactory)
    story = factory.SubFactory(StoryPageFactory)


def theme(slug: str) -> Theme:
    return Theme.objects.get(slug=slug)


class ChapterFactory(factory.django.DjangoModelFactory):
    """A chapter of a story's recording; give it the story and a start within the recording."""

    class Meta:
        model = Chapter

    story = factory.SubFactory(StoryPageFactory)
    start_seconds = 0
    title = factory.Sequence(lambda n: f"Chapter {n}")
