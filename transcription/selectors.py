"""Reads other code reuses: withdrawal, the transcript people read for a recording, the jobs still unfinished."""

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.template.defaultfilters import linebreaksbr
from django.utils.html import escape
from wagtail.blocks import StreamValue
from wagtail.rich_text import RichText

from stories.blocks import paragraph_text
from stories.models import StoryPage

from .models import Redaction, RedactionEvent, RedactionRemake, Segment, Transcript, WrittenRedaction


def story_withdrawn(*, media_id) -> bool:
    """A story that uses this recording was withdrawn: none of its text may be kept."""
    return StoryPage.objects.filter(recording_id=media_id, withdrawn_at__isnull=False).exists()


def readable_transcripts():
    """The transcript the public and storytellers read for each recording: on the story page, in its caption files,
    on the storyteller's own page, in the API and in the search index. The newest finished one (or the one a
    facilitator chose); while another is made, the previous one stays readable. See TranscriptQuerySet.readable."""
    return Transcript.objects.readable()


def current_transcript(*, media_id) -> Transcript | None:
    """The transcript people read for a recording, or None."""
    if media_id is None:
        return None
    return readable_transcripts().filter(media_id=media_id).first()


def latest_transcript(*, media_id) -> Transcript | None:
    """The transcript the worker touched last for a recording: what the admin shows as its processing state."""
    if media_id is None:
        return None
    return Transcript.objects.filter(media_id=media_id).order_by("-is_current", "-updated_at").first()


def unfinished_transcripts():
    """Failed, waiting and running transcripts, failures first: the admin's report."""
    return (
        Transcript.objects.exclude(status=Transcript.Status.DONE)
        .select_related("media")
        .order_by("status", "-updated_at")
    )


def unfinished_redaction_remakes():
    """Recordings whose copies are still to be made again after a redaction (failed first): the public is told they
    are being prepared until they are. The admin's report of unfinished jobs lists them."""
    return (
        RedactionRemake.objects.exclude(status=RedactionRemake.Status.DONE)
        .select_related("media")
        .order_by("status", "-updated_at")
    )


def failed_redaction_remakes_count() -> int:
    """How many recordings' copies could not be made again after a redaction: a count for a dashboard."""
    return RedactionRemake.objects.filter(status=RedactionRemake.Status.FAILED).count()


@dataclass(frozen=True)
class RedactionHeld:
    """A passage of a recording that must stay redacted: its words (words_redacted) and, with original_too, the
    sound of its preservation original. What a restore of an older backup makes again."""

    media_id: uuid.UUID
    start: float
    end: float
    reason: str
    original_too: bool
    words_redacted: bool
    created_by_id: int | None


def redactions_held() -> list[RedactionHeld]:
    """Every recording's redaction this database holds, and every passage its audit says an original was rewritten
    silent over whose words were restored since (the sound stays gone): read before a restore replaces the database."""
    held = [
        RedactionHeld(media_id, start, end, reason, original_too, True, created_by_id)
        for media_id, start, end, reason, original_too, created_by_id in Redaction.objects.values_list(
            "media_id", "start", "end", "reason", "original_too", "created_by_id"
        )
    ]
    spans = {(passage.media_id, passage.start, passage.end) for passage in held}
    silenced = RedactionEvent.objects.filter(
        action__in=[RedactionEvent.Action.ORIGINAL, RedactionEvent.Action.REPLAYED],
        media_id__isnull=False,
        sha256_after__gt="",
    ).order_by("at", "pk")
    for media_id, start, end, reason, user_id in silenced.values_list("media_id", "start", "end", "reason", "user_id"):
        if (media_id, start, end) not in spans:
            spans.add((media_id, start, end))
            held.append(RedactionHeld(media_id, start, end, reason, True, False, user_id))
    return held


@dataclass(frozen=True)
class WrittenRedactionHeld:
    """A passage of a written story's text that must stay redacted, as it was redacted (the block and the digest of
    its text then): what a restore of an older backup makes again."""

    story_id: int
    translation_key: uuid.UUID
    block_id: str
    block_digest: str
    start: int
    end: int
    reason: str
    created_by_id: int | None


def written_redactions_held() -> list[WrittenRedactionHeld]:
    """Every written story's redaction this database holds: read before a restore replaces the database."""
    fields = ("story_id", "story__translation_key", "block_id", "block_digest", "start", "end", "reason")
    return [WrittenRedactionHeld(*row) for row in WrittenRedaction.objects.values_list(*fields, "created_by_id")]


@dataclass(frozen=True)
class RedactionUndone:
    """A passage whose redaction this database's audit says was undone, and which it no longer redacts: a recording's
    (media_id, seconds) or a written story's (story_id, block_id, characters). A backup older than the undo brings
    the redaction back; the restore says so rather than undo it again on its own."""

    media_id: uuid.UUID | None
    story_id: int | None
    block_id: str
    start: float
    end: float


def _redacted_now() -> set[RedactionUndone]:
    """Every passage this database redacts now, named as an undone one is (so the two compare)."""
    recordings = Redaction.objects.values_list("media_id", "start", "end")
    written = WrittenRedaction.objects.values_list("story_id", "block_id", "start", "end")
    return {RedactionUndone(media_id, None, "", start, end) for media_id, start, end in recordings} | {
        RedactionUndone(None, story_id, block_id, float(start), float(end))
        for story_id, block_id, start, end in written
    }


def redactions_undone() -> list[RedactionUndone]:
    """Every passage the audit says was undone (its words read again) and this database does not redact now: read
    before a restore replaces the database, to find the undone redactions the backup brings back."""
    undone = RedactionEvent.objects.filter(
        action__in=[RedactionEvent.Action.RESTORED, RedactionEvent.Action.WORDS_RESTORED]
    ).order_by("at", "pk")
    fields = ("media_id", "story_id", "block_id", "start", "end")
    redacted = _redacted_now()
    passages = dict.fromkeys(RedactionUndone(*row) for row in undone.values_list(*fields))
    return [passage for passage in passages if passage not in redacted]


def redactions_in_force_again(undone: list[RedactionUndone]) -> list[RedactionUndone]:
    """Of the passages undone before a restore, those this (restored) database redacts again."""
    redacted = _redacted_now()
    return [passage for passage in undone if passage in redacted]


def speaker_names(story: StoryPage) -> dict[int, str]:
    """The names segments may show for a story: its participants' display names (never full names), by person.

    A speaker who is no longer a participant is shown without a name. Read from the story's participants as its
    page lists them (no query when the page has read them already)."""
    return {participant.person_id: participant.person.display_name for participant in story.participants_listed}


REDACTED = "[redacted]"


@dataclass(frozen=True)
class PublicSegment:
    """A segment as the public and storytellers read it: its words, or "[redacted]" where a redaction covers it."""

    media_id: int
    transcript_id: int
    index: int
    start: float
    end: float
    text: str
    speaker_id: int | None
    redacted: bool = False


def public_segments(transcripts) -> list[PublicSegment]:
    """The segments of these transcripts in order (by transcript, then position), with every segment a redaction of
    its recording overlaps read as "[redacted]". Every public reading of a transcript's words goes through here: the
    story page, caption files, the API, the search index (and so suggestions and moments) and storytellers' copies.
    One query: whether a redaction covers a segment is asked inside it."""
    covering = Redaction.objects.filter(
        media_id=OuterRef("transcript__media_id"), start__lt=OuterRef("end"), end__gt=OuterRef("start")
    )
    rows = (
        Segment.objects.filter(transcript__in=transcripts)
        .annotate(redacted=Exists(covering))
        .order_by("transcript_id", "index")
        .values_list("transcript__media_id", "transcript_id", "index", "start", "end", "text", "speaker_id", "redacted")
    )
    return [
        PublicSegment(
            media_id=media_id,
            transcript_id=transcript_id,
            index=index,
            start=start,
            end=end,
            text=REDACTED if redacted else text,
            speaker_id=speaker_id,
            redacted=redacted,
        )
        for media_id, transcript_id, index, start, end, text, speaker_id, redacted in rows
    ]


def redacted_spans(*, media_id) -> list[tuple[float, float]]:
    """Every redacted passage of a recording as (start, end) seconds, in order: what its copies are silent over."""
    return [
        (start, end)
        for start, end in Redaction.objects.filter(media_id=media_id)
        .order_by("start", "end", "pk")
        .values_list("start", "end")
    ]


def redacted_segments(transcript: Transcript) -> list[Segment]:
    """The segments of a transcript that a redaction of its recording covers: what facilitators see marked."""
    redactions = list(Redaction.objects.filter(media_id=transcript.media_id))
    if not redactions:
        return []
    return [
        segment
        for segment in transcript.segments.order_by("index").only("pk", "start", "end")
        if any(redaction.covers(segment.start, segment.end) for redaction in redactions)
    ]


REDACTABLE_BLOCKS = ("paragraph", "quote")


def written_redactions_of(story_ids) -> dict[int, list[WrittenRedaction]]:
    """Each story's redactions of its written text, in one query."""
    found = defaultdict(list)
    for redaction in WrittenRedaction.objects.filter(story_id__in=list(story_ids)):
        found[redaction.story_id].append(redaction)
    return found


def block_text(block) -> str:
    """The plain text of a paragraph or quote of a story's body, which a written redaction's characters count in."""
    return paragraph_text(block.value) if block.block_type == "paragraph" else str(block.value["text"])


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _with_spans_redacted(text: str, spans: list[tuple[int, int]]) -> str:
    shown, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        shown += [text[at:start], REDACTED]
        at = end
    return "".join(shown) + text[at:]


def _as_rich_text(text: str) -> RichText:
    parts = [part for part in text.split("\n\n") if part.strip()]
    return RichText("".join(f"<p>{linebreaksbr(escape(part))}</p>" for part in parts))


def public_body(story: StoryPage, *, redactions: list[WrittenRedaction] | None = None) -> StreamValue:
    """A story's written body as the public reads it: each redacted passage of a paragraph or quote replaced by
    "[redacted]" (such a paragraph keeps its words and paragraphs but not its links or emphasis). Every public
    reading of the written text goes through here: the story page's blocks, the API and the search index."""
    if redactions is None:
        redactions = written_redactions_of([story.pk]).get(story.pk, [])
    if not redactions:
        return story.body
    by_block = defaultdict(list)
    for redaction in redactions:
        by_block[redaction.block_id].append(redaction)
    shown = []
    for block in story.body:
        value = block.value
        if block.id in by_block and block.block_type in REDACTABLE_BLOCKS:
            text = block_text(block)
            if any(redaction.block_digest != text_digest(text) for redaction in by_block[block.id]):
                # Edited since: the characters counted may have moved, so none of the block is shown.
                spans = [(0, len(text))]
            else:
                spans = [(redaction.start, redaction.end) for redaction in by_block[block.id]]
            text = _with_spans_redacted(text, spans)
            if block.block_type == "paragraph":
                value = _as_rich_text(text)
            else:
                value = block.block.to_python({"text": text, "attribution": value.get("attribution") or ""})
        shown.append((block.block_type, value, block.id))
    return StreamValue(story.body.stream_block, shown)
