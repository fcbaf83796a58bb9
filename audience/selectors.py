"""Reading the figures: for a story's public page, and for the facilitators' reports."""

import datetime
import math
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth

from stories.models import StoryPage

from .models import STRETCH_SECONDS, StoryListeningDay, StoryStretchListens, ZeroResultSearch

# A public page says how often a story was heard only from this many plays: fewer could point at one listener.
PUBLIC_LISTENS_MINIMUM = 5


@dataclass(frozen=True)
class PublicListening:
    """What a story's public page may say: whether its plays are counted at all, and the count when it may show it."""

    counted: bool
    times: int | None = None


def story_public_listening(*, story: StoryPage, public: bool | None = None) -> PublicListening:
    """One query: the story's plays in all, and the rule's answer for it unless the caller passes the answer it has
    just had from the rule (`public`, as the story's page was served with); a hidden story is not counted."""
    if story.pk is None or public is False:
        return PublicListening(counted=False)
    if public:
        times = StoryListeningDay.objects.filter(story_id=story.pk).aggregate(total=Coalesce(Sum("plays"), 0))["total"]
    else:
        plays = (
            StoryListeningDay.objects.filter(story=OuterRef("pk"))
            .order_by()
            .values("story")
            .annotate(total=Sum("plays"))
            .values("total")
        )
        found = list(
            StoryPage.objects.visible_to_public()
            .filter(pk=story.pk)
            .annotate(times=Coalesce(Subquery(plays), 0))
            .values_list("times", flat=True)
        )
        if not found:
            return PublicListening(counted=False)
        times = found[0]
    return PublicListening(counted=True, times=times if times >= PUBLIC_LISTENS_MINIMUM else None)


def period_start(days: int | None, *, today: datetime.date) -> datetime.date | None:
    return today - datetime.timedelta(days=days - 1) if days else None


PERIODS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months", 0: "All time"}
DEFAULT_PERIOD = 90
TOP_STORIES = 100


@dataclass(frozen=True)
class Figures:
    label: str
    plays: int
    stretches_heard: int
    story_id: int | None = None
    community: str = ""

    @property
    def minutes(self) -> float:
        return round(self.stretches_heard * STRETCH_SECONDS / 60, 1)


@dataclass(frozen=True)
class ListeningReport:
    period: int
    total: Figures
    by_month: list[Figures]
    by_community: list[Figures]
    by_story: list[Figures]
    community_months: list[str]
    community_by_month: list[tuple[str, list[int]]]


def listening_report(*, period: int, today: datetime.date, stories: QuerySet | None = None) -> ListeningReport:
    """Plays and minutes in the period: in all, by month, by community (and by community and month), by story; of
    these stories only, when given (a facilitator's: their communities')."""
    days = StoryListeningDay.objects.all()
    if stories is not None:
        days = days.filter(story__in=stories.values("pk"))
    start = period_start(period, today=today)
    if start is not None:
        days = days.filter(day__gte=start)
    sums = {"plays": Sum("plays"), "heard": Sum("stretches_heard")}
    total = days.aggregate(**sums)
    by_month = [
        Figures(label=row["month"].strftime("%B %Y"), plays=row["plays"], stretches_heard=row["heard"])
        for row in days.annotate(month=TruncMonth("day")).values("month").annotate(**sums).order_by("month")
    ]
    community_rows = list(
        days.values("story__community__name").annotate(**sums).order_by("-plays", "story__community__name")
    )
    by_community = [
        Figures(
            label=row["story__community__name"] or "(no community)", plays=row["plays"], stretches_heard=row["heard"]
        )
        for row in community_rows
    ]
    by_story = [
        Figures(
            label=row["story__title"],
            plays=row["plays"],
            stretches_heard=row["heard"],
            story_id=row["story_id"],
            community=row["story__community__name"] or "",
        )
        for row in days.values("story_id", "story__title", "story__community__name")
        .annotate(**sums)
        .order_by("-plays", "-heard", "story__title")[:TOP_STORIES]
    ]
    months = [figures.label for figures in by_month]
    grid: dict[str, dict[str, int]] = {}
    for row in days.annotate(month=TruncMonth("day")).values("month", "story__community__name").annotate(**sums):
        community = row["story__community__name"] or "(no community)"
        grid.setdefault(community, {})[row["month"].strftime("%B %Y")] = row["plays"]
    community_by_month = [
        (figures.label, [grid.get(figures.label, {}).get(month, 0) for month in months]) for figures in by_community
    ]
    return ListeningReport(
        period=period,
        total=Figures(label="All stories", plays=total["plays"] or 0, stretches_heard=total["heard"] or 0),
        by_month=by_month,
        by_community=by_community,
        by_story=by_story,
        community_months=months,
        community_by_month=community_by_month,
    )


@dataclass(frozen=True)
class Stretch:
    number: int
    listens: int
    share: float  # of the most-listened stretch, 0 to 1
    lines: list[str]

    @property
    def start_seconds(self) -> int:
        return self.number * STRETCH_SECONDS

    @property
    def clock(self) -> str:
        minutes, seconds = divmod(self.start_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes:02}:{seconds:02}"


def story_heat_strip(*, story: StoryPage) -> list[Stretch]:
    """Every stretch of the story's recording with how many plays reached it and the transcript's words there."""
    from transcription.selectors import current_transcript

    listens = dict(StoryStretchListens.objects.filter(story=story).values_list("stretch", "listens"))
    duration = story.recording.duration_seconds if story.recording_id else None
    count = math.ceil(duration / STRETCH_SECONDS) if duration else 0
    count = max(count, max(listens, default=-1) + 1)
    lines: dict[int, list[str]] = {}
    transcript = current_transcript(media_id=story.recording_id)
    if transcript is not None:
        for start, text in transcript.segments.order_by("index").values_list("start", "text"):
            lines.setdefault(int(start // STRETCH_SECONDS), []).append(text.strip())
    most = max(listens.values(), default=0)
    return [
        Stretch(
            number=number,
            listens=listens.get(number, 0),
            share=listens.get(number, 0) / most if most else 0.0,
            lines=lines.get(number, []),
        )
        for number in range(count)
    ]


@dataclass(frozen=True)
class SearchFigures:
    text: str
    searches: int
    days: int
    last_day: datetime.date


def zero_result_searches(*, today: datetime.date, limit: int = 500) -> list[SearchFigures]:
    """The searches that found nothing in the kept 90 days, the most frequent first."""
    from .services import ZERO_RESULT_SEARCH_DAYS

    since = today - datetime.timedelta(days=ZERO_RESULT_SEARCH_DAYS - 1)
    rows = (
        ZeroResultSearch.objects.filter(day__gte=since)
        .values("text")
        .annotate(total=Sum("searches"), days=Count("day"), last_day=Max("day"))
        .order_by("-total", "-last_day", "text")[:limit]
    )
    return [SearchFigures(row["text"], row["total"], row["days"], row["last_day"]) for row in rows]
