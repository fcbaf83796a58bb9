"""How a story, or a clip of it, is cited: Chicago style (notes and bibliography), as for an oral history recording.

Rosa and Ana. “Grandmother's garden.” Recorded in Riverside, 3 May 2025. Story Archive, 02:15–02:50.
https://stories.example.org/stories/grandmothers-garden/?t=135,170.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.dateformat import format as format_date

from .models.people import StoryParticipant
from .timecodes import Clip

CITATION_STYLE = "Chicago style (notes and bibliography)"


def storytellers_of(story) -> list[str]:
    """The display names of the people who tell the story, in its order; everyone named when nobody is a storyteller."""
    people = story.participants_listed
    tellers = [p for p in people if p.role == StoryParticipant.Role.STORYTELLER] or people
    return [participant.person.display_name for participant in tellers]


def joined(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


@dataclass(frozen=True)
class Citation:
    """`lead` is everything before the time range and the address, so the page can cite another stretch."""

    lead: str
    time_range: str
    address: str

    def __str__(self) -> str:
        time_range = f", {self.time_range}" if self.time_range else ""
        return f"{self.lead}{time_range}. {self.address}."


def story_citation(story, *, address: str, clip: Clip | None = None) -> Citation:
    """The citation of a story at `address` (the clip's own link when there is a clip)."""
    parts = []
    names = joined(storytellers_of(story))
    if names:
        parts.append(f"{names.rstrip('.')}.")
    parts.append(f"“{story.title.rstrip('.')}.”")
    where = f" in {story.community.name}" if story.community_id else ""
    when = f", {format_date(story.recorded_on, 'j F Y')}" if story.recorded_on else ""
    if where or when:
        parts.append(f"Recorded{where}{when}.")
    parts.append(settings.WAGTAIL_SITE_NAME)
    time_range = clip.label if clip and (clip.end is not None or clip.start) else ""
    return Citation(lead=" ".join(parts), time_range=time_range, address=address)
