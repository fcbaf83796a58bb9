import datetime

import pytest
from wagtail.models import Site

from stories.factories import (
    CollectionEntryFactory,
    CollectionPageFactory,
    CommunityFactory,
    PersonFactory,
    public_story,
    theme,
)
from stories.models import StoryPage

from .harvesting import harvester

HOST = "archive.example.org"
COMMUNITIES = ("Harbor Point", "Cedar Flats", "Mill Creek")
THEMES = ("humane-housing", "lifelong-learning", "thriving-natural-world")


@pytest.fixture(autouse=True)
def _archive_address(settings):
    """The archive's own host name, which OAI identifiers carry, and an address harvesters may write to."""
    Site.objects.filter(is_default_site=True).update(hostname=HOST)
    settings.DEFAULT_FROM_EMAIL = f"Story Archive <stories@{HOST}>"


@pytest.fixture
def sickle(client, monkeypatch):
    return harvester(client, monkeypatch)[0]


def story_paths() -> dict[int, str]:
    """Every story's address on the site, by id (as the consent property test reads them)."""
    root = Site.objects.get(is_default_site=True).root_page.url_path
    return {pk: "/" + url_path.removeprefix(root) for pk, url_path in StoryPage.objects.values_list("pk", "url_path")}


def public_ids() -> set[int]:
    return set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))


def build_archive(size: int) -> list[StoryPage]:
    """`size` public stories over three communities and three themes, told by an elder and sometimes a youth (a minor
    with a guardian's consent), and a collection of the first five."""
    communities = [CommunityFactory(name=name) for name in COMMUNITIES]
    themes = [theme(slug) for slug in THEMES]
    elder, youth = (
        PersonFactory(display_name="Rosa M.", birth_year=1948),
        PersonFactory(display_name="Jay T.", birth_year=2012),
    )
    stories = []
    for n in range(size):
        stories.append(
            public_story(
                title=f"Story {n} of the harbour",
                summary=f"Told at the dialogue, number {n}.",
                people=[elder, youth] if n % 4 == 0 else [elder],
                themes=[themes[n % 3]],
                community=communities[n % 3],
                recorded_on=datetime.date(2026, 5, 1) - datetime.timedelta(days=n),
                language="es" if n % 5 == 0 else "en",
            )
        )
    collection = CollectionPageFactory(title="Voices of the harbour")
    for story in stories[:5]:
        CollectionEntryFactory(page=collection, story=story)
    return stories
