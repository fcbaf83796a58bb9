"""One query object in, one result object out: the contract every search backend keeps."""

import datetime
from dataclasses import dataclass, field

from django.utils.safestring import SafeString

from stories.generations import Generation
from stories.models import StoryKind
from stories.timecodes import TimedSpan
from stories.validators import language_label

from .analysis import SearchText

FACETS = ("theme", "generation", "community", "language", "kind")
SORTS = ("relevance", "newest", "oldest")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 500
MOMENTS_PER_HIT = 3


class QueryError(ValueError):
    """A search parameter a visitor can fix; the message says how."""


@dataclass(frozen=True)
class StoryQuery:
    text: str = ""
    themes: tuple[str, ...] = ()
    generations: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    intergenerational: bool = False
    recorded_from: datetime.date | None = None
    recorded_to: datetime.date | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self):
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not “{self.sort}”.")
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}.")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
        if self.recorded_from and self.recorded_to and self.recorded_from > self.recorded_to:
            raise QueryError("recorded_from must not be after recorded_to.")

    @property
    def search_text(self) -> SearchText:
        return SearchText.parse(self.text)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def selected(self, facet: str) -> tuple[str, ...]:
        return {
            "theme": self.themes,
            "generation": self.generations,
            "community": self.communities,
            "language": self.languages,
            "kind": self.kinds,
        }[facet]

    @classmethod
    def from_params(cls, params, *, paged: bool = True) -> "StoryQuery":
        """Read a QueryDict (the page's GET or the API's): repeatable slugs, dates as YYYY-MM-DD. Figures over every
        match (paged=False) read no order, page or page size, so a search's address with its page still works there."""

        def slugs(name):
            return tuple(dict.fromkeys(v.strip() for v in params.getlist(name) if v.strip()))

        return cls(
            text=params.get("q", "") or "",
            themes=slugs("theme"),
            generations=slugs("generation"),
            communities=slugs("community"),
            languages=slugs("language"),
            kinds=slugs("kind"),
            intergenerational=_flag(params.get("intergenerational")),
            recorded_from=_date(params.get("recorded_from"), "recorded_from"),
            recorded_to=_date(params.get("recorded_to"), "recorded_to"),
            **(
                {
                    "sort": params.get("sort") or "relevance",
                    "page": _whole_number(params.get("page"), "page", 1),
                    "page_size": _whole_number(params.get("page_size"), "page_size", DEFAULT_PAGE_SIZE),
                }
                if paged
                else {}
            ),
        )


def _flag(value) -> bool:
    if value in (None, ""):
        return False
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off"):
        return False
    raise QueryError("intergenerational must be true or false.")


def _date(value, name) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} must be a date written YYYY-MM-DD.") from None


def _whole_number(value, name, default) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise QueryError(f"{name} must be a whole number.") from None


@dataclass(frozen=True)
class Moment(TimedSpan):
    """A transcript segment where the words come up; times in seconds."""

    start: float
    end: float
    text: str
    highlighted: SafeString


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class Named:
    slug: str
    name: str


@dataclass(frozen=True)
class ShownStory:
    """What a hit shows of its story, read from the story itself as the search runs, never from the index."""

    pk: int
    title: str
    url: str
    summary: str
    kind: str
    language: str
    recorded_on: datetime.date | None
    community: Named | None
    themes: tuple[Named, ...]
    generations: tuple[Generation, ...]  # of the participants, in their order, without repeats
    content_notes: tuple[Named, ...] = ()

    @property
    def language_label(self) -> str:
        return language_label(self.language)


@dataclass
class StoryHit:
    story: ShownStory
    snippet: SafeString
    score: float
    moments: list[Moment] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return StoryKind(self.story.kind).label


@dataclass
class StorySearchResults:
    query: StoryQuery
    total: int
    hits: list[StoryHit]
    facets: dict[str, list[FacetValue]]

    @property
    def page_count(self) -> int:
        return max((self.total + self.query.page_size - 1) // self.query.page_size, 1)
