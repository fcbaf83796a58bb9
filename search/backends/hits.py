"""What every backend does after its own search: ids into hits (the visibility rule once more), slugs into labels,
the moments and the snippet a hit shows."""

from collections import defaultdict

from django.core.cache import cache
from django.db.models import Value
from wagtail.models import Page

from stories.generations import BY_SLUG, generations_of
from stories.models import Community, StoryKind, StoryPage, Theme
from stories.models.pages import participants_as_listed, public_rule_compiled, rule_admits
from stories.validators import language_label

from ..analysis import SearchText, highlight, stemmed_text
from ..query import MOMENTS_PER_HIT, Moment, Named, ShownStory, StoryHit

SNIPPET_WORDS = 18


def visible_story_ids(story_ids) -> set[int]:
    """Which of these stories the public may see now: the rule, run on a handful of ids."""
    return rule_admits(story_ids)


# How long a story found stale by a search is not queued again: searches by anyone, as often as they like, queue at
# most one refresh per story in that time (in each process with a local cache, across processes with a shared one).
STALE_REQUEUE_SECONDS = 300


def forget_stale(story_ids) -> None:
    """The index still holds stories the public may no longer see: queue their removal, once per story a while."""
    from ..tasks import refresh_story_index

    for story_id in story_ids:
        if cache.add(f"search:stale:{story_id}", True, timeout=STALE_REQUEUE_SECONDS):
            refresh_story_index.enqueue(story_id)


# What a hit shows, read in one query together with the rule: model instances and their prefetches cost several
# times the rule itself on a page of twenty.
SHOWN_FIELDS = (
    "pk",
    "title",
    "url_path",
    "summary",
    "language",
    "recorded_on",
    "recording_id",
    "recording__video_codec",
    "community__slug",
    "community__name",
)


THEMES, NOTES = "themes", "content_notes"


def _named(relation: str, story_ids):
    """The story's themes or content notes (a many-to-many of named rows with slugs): story, slug, name, relation."""
    field = StoryPage._meta.get_field(relation)
    target = field.m2m_reverse_field_name()
    return (
        field.remote_field.through.objects.filter(storypage_id__in=story_ids)
        .order_by()
        .values_list("storypage_id", f"{target}__slug", f"{target}__name", Value(relation))
    )


def _named_by_story(story_ids) -> tuple[dict[int, list[Named]], dict[int, list[Named]]]:
    """Each story's themes and content notes, by name, in one query: every query is a round trip to the database."""
    named = {THEMES: defaultdict(list), NOTES: defaultdict(list)}
    rows = _named(THEMES, story_ids).union(_named(NOTES, story_ids), all=True)
    for story_id, slug, name, relation in sorted(rows, key=lambda row: row[2]):
        named[relation][story_id].append(Named(slug, name))
    return named[THEMES], named[NOTES]


def visible_stories(story_ids) -> dict[int, ShownStory]:
    """The stories behind the ids that the public may see now, read for display; queue the others' removal."""
    rows = public_rule_compiled(*SHOWN_FIELDS)(story_ids)
    shown_ids = [row[0] for row in rows]
    themes, notes = _named_by_story(shown_ids)
    birth_years = defaultdict(list)
    for story_id, birth_year in (
        participants_as_listed().filter(page_id__in=shown_ids).values_list("page_id", "person__birth_year")
    ):
        birth_years[story_id].append(birth_year)
    stories = {}
    for row in rows:
        pk, title, url_path, summary, language, recorded_on, recording_id, video_codec, community, community_name = row
        stories[pk] = ShownStory(
            pk=pk,
            title=title,
            # Wagtail's own URL for the page, worked out from its path alone: no page instance is loaded.
            url=Page(pk=pk, url_path=url_path).url,
            summary=summary,
            kind=StoryKind.of(has_recording=recording_id is not None, video_codec=video_codec),
            language=language,
            recorded_on=recorded_on,
            community=Named(community, community_name) if community else None,
            themes=tuple(themes[pk]),
            generations=tuple(generations_of(birth_years[pk])),
            content_notes=tuple(notes[pk]),
        )
    forget_stale({pk for pk in story_ids if pk not in stories})
    return stories


def hits_in_order(story_ids, snippets, scores, moments, *, stories=None) -> list[StoryHit]:
    """Hits in the backend's order, leaving out any story the public may no longer see."""
    if stories is None:
        stories = visible_stories(story_ids)
    return [
        StoryHit(story=stories[pk], snippet=snippets[pk], score=scores[pk], moments=moments.get(pk, []))
        for pk in story_ids
        if pk in stories
    ]


def facet_labels(facet: str, values: list[str]) -> dict[str, str]:
    """The words a visitor reads for each facet value."""
    if facet == "theme":
        return dict(Theme.objects.filter(slug__in=values).values_list("slug", "name"))
    if facet == "community":
        return dict(Community.objects.filter(slug__in=values).values_list("slug", "name"))
    if facet == "generation":
        return {v: BY_SLUG[v].label for v in values if v in BY_SLUG}
    if facet == "language":
        return {v: language_label(v) for v in values}
    return {v: StoryKind(v).label for v in values if v in StoryKind.values}


def best_moments(text: SearchText, segments, analyzer: str) -> list[Moment]:
    """Up to three of the (position, start, end, text) segments where any of the words come up: the ones holding
    the most of them, then the most often, then the earliest; shown in time order."""
    found = []
    for position, start, end, segment_text in segments:
        if strength := text.strength_in(segment_text, analyzer):
            found.append((strength, position, start, end, segment_text))
    best = sorted(found, key=lambda c: (-c[0][0], -c[0][1], c[1]))[:MOMENTS_PER_HIT]
    return [
        Moment(start, end, segment_text, highlight(segment_text, text, analyzer))
        for _strength, _position, start, end, segment_text in sorted(best, key=lambda c: c[2])
    ]


def story_snippet(summary: str, body: str, text: SearchText, analyzer: str):
    """The summary, or the written story where the words come up in it, highlighted around the first match."""
    source = summary or body
    if text:
        stems = text.stems(analyzer)
        for candidate in (summary, body):
            if candidate and any(stemmed in stems for stemmed in stemmed_text(candidate, analyzer).split()):
                source = candidate
                break
    return highlight(source, text, analyzer, around=SNIPPET_WORDS)
