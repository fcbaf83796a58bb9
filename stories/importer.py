"""Batch import from a dialogue event's manifest: one CSV row, one story. The demo seeder uses it too."""

import csv
import datetime
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify

from .generations import could_be_minor
from .media import RecordingRefused, recording_delete_files, recording_store
from .models import (
    Community,
    Consent,
    Dialogue,
    Person,
    StoryIndexPage,
    StoryPage,
    StoryParticipant,
    Theme,
    Visibility,
    Withdrawal,
    withdrawn_story_fingerprints,
)
from .services.public import refresh_statistics
from .validators import validate_birth_year, validate_language_code

logger = logging.getLogger(__name__)

COLUMNS = (
    "title",
    "summary",
    "community",
    "dialogue",
    "themes",
    "language",
    "recorded_on",
    "file",
    "text",
    "storytellers",
    "consent",
    "visibility",
)
REQUIRED_COLUMNS = ("title", "community")
CONSENT_CHOICES = ("yes", "adults", "no")
VISIBILITY_CHOICES = {
    "public": Visibility.PUBLIC,
    "facilitators": Visibility.FACILITATORS,
    "private": Visibility.PRIVATE,
}
GUARDIAN_ON_FORM = "Guardian, on the signed form"


class ManifestError(ValueError):
    """The manifest as a whole cannot be read (not UTF-8, no header, a required column missing)."""


class RowError(ValueError):
    """One row cannot be imported; the message says what to fix."""


class RowWithdrawn(RowError):
    """The row's story, or a consent on it, was withdrawn: an import never brings it back."""


@dataclass
class Storyteller:
    display_name: str
    birth_year: int | None
    role: str


@dataclass
class StoryRow:
    line: int
    title: str
    summary: str
    community: str
    dialogue: str
    themes: list[Theme]
    language: str
    recorded_on: datetime.date | None
    file: Path | None
    text: str
    storytellers: list[Storyteller]
    consent: str
    visibility: str


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    withdrawn: list[tuple[int, str]] = field(default_factory=list)


def read_manifest(path: Path) -> tuple[list[tuple[int, dict]], int]:
    """Read every record with the line it starts on (the header is line 1)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise ManifestError(f"{path} is empty: it needs a header row with {', '.join(COLUMNS)}.")
            header = [name.strip().lower() for name in reader.fieldnames]
            missing = [column for column in REQUIRED_COLUMNS if column not in header]
            if missing:
                raise ManifestError(f"{path} has no {' or '.join(missing)} column. The header row is line 1.")
            reader.fieldnames = header
            records = []
            next_line = reader.line_num + 1
            for record in reader:
                records.append((next_line, record))
                next_line = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path} is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”.") from error
    except csv.Error as error:
        raise ManifestError(f"{path} is not a readable CSV file: {error}") from error
    return records, len(records)


def parse_row(line: int, record: dict, base_dir: Path) -> StoryRow:
    """Check one record and turn it into a StoryRow; raise RowError with every problem found."""
    problems = []

    def value(column: str) -> str:
        return (record.get(column) or "").strip()

    title, community = value("title"), value("community")
    if not title:
        problems.append("the title is empty")
    if not community:
        problems.append("the community is empty")

    themes = []
    for name in filter(None, (part.strip() for part in value("themes").split(";"))):
        theme = Theme.objects.filter(slug=slugify(name)).first() or Theme.objects.filter(name__iexact=name).first()
        if theme is None:
            problems.append(f"the theme “{name}” is unknown")
        else:
            themes.append(theme)

    language = value("language") or "en"
    try:
        validate_language_code(language)
    except ValidationError as error:
        problems.extend(error.messages)

    recorded_on = None
    if value("recorded_on"):
        try:
            recorded_on = datetime.date.fromisoformat(value("recorded_on"))
        except ValueError:
            problems.append(f"the date “{value('recorded_on')}” is not a date in the form YYYY-MM-DD")

    file = None
    if value("file"):
        candidate = (base_dir / value("file")).resolve()
        if not candidate.is_relative_to(base_dir.resolve()):
            problems.append(f"the file “{value('file')}” is outside the manifest's folder")
        elif not candidate.is_file():
            problems.append(f"the file “{value('file')}” does not exist")
        else:
            file = candidate
    if file is None and not value("text") and not any("file" in p for p in problems):
        problems.append("there is neither a file nor a text")

    storytellers = []
    for entry in filter(None, (part.strip() for part in value("storytellers").split(";"))):
        storyteller, problem = _parse_storyteller(entry)
        if problem:
            problems.append(problem)
        else:
            storytellers.append(storyteller)

    consent = value("consent").lower() or "no"
    if consent not in CONSENT_CHOICES:
        problems.append(f"consent must be yes, adults or no, not “{value('consent')}”")
    visibility = value("visibility").lower() or "public"
    if visibility not in VISIBILITY_CHOICES:
        problems.append(f"visibility must be public, facilitators or private, not “{value('visibility')}”")

    if problems:
        raise RowError("; ".join(problems))
    return StoryRow(
        line=line,
        title=title,
        summary=value("summary"),
        community=community,
        dialogue=value("dialogue"),
        themes=themes,
        language=language,
        recorded_on=recorded_on,
        file=file,
        text=value("text"),
        storytellers=storytellers,
        consent=consent,
        visibility=VISIBILITY_CHOICES[visibility],
    )


def _parse_storyteller(entry: str) -> tuple[Storyteller | None, str | None]:
    parts = [part.strip() for part in entry.split("|")]
    if len(parts) != 3 or not parts[0]:
        return None, f"the storyteller “{entry}” should read Display Name|birth year|role"
    name, year_text, role = parts
    birth_year = None
    if year_text:
        try:
            birth_year = int(year_text)
            validate_birth_year(birth_year)
        except ValueError:
            return None, f"the birth year “{year_text}” for {name} is not a year"
        except ValidationError as error:
            return None, f"{name}: {' '.join(error.messages)}"
    role = role.lower() or StoryParticipant.Role.STORYTELLER
    if role not in StoryParticipant.Role.values:
        return None, f"the role “{role}” for {name} should be storyteller, interviewer or listener"
    return Storyteller(name, birth_year, role), None


def _body_from_text(text: str) -> list[dict]:
    """Plain text to paragraph blocks; blank lines separate paragraphs. The text is escaped, never trusted as HTML."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return [
        {"type": "paragraph", "value": "".join(f"<p>{escape(line)}</p>" for line in p.split("\n"))} for p in paragraphs
    ]


def story_import_row(*, row: StoryRow, publish: bool) -> bool:
    """Create or update one story from a manifest row; True if created. All or nothing.

    A story that was withdrawn, or one with a withdrawn consent, is refused (RowWithdrawn) and left as it is."""
    stored = None
    try:
        with transaction.atomic():
            _refuse_withdrawn(row)
            community = Community.objects.filter(name__iexact=row.community).first()
            if community is None:
                community = Community.objects.create(name=row.community, slug=_unique_slug(Community, row.community))
            dialogue = None
            if row.dialogue:
                dialogue, _ = Dialogue.objects.get_or_create(
                    title=row.dialogue, community=community, defaults={"date": row.recorded_on}
                )

            story = StoryPage.objects.filter(title=row.title, community=community).first()
            created = story is None
            if not created:
                _refuse_withdrawn_consent(row, story)
            if created:
                story = StoryPage(title=row.title, slug=_unique_page_slug(row.title), community=community)
            story.summary = row.summary
            story.dialogue = dialogue
            story.language = row.language
            story.recorded_on = row.recorded_on
            story.visibility = row.visibility
            if row.text:
                story.body = _body_from_text(row.text)
            if row.file and not (story.recording and _same_file(story.recording, row.file)):
                with open(row.file, "rb") as source:
                    stored = recording_store(source=source, original_filename=row.file.name)
                story.recording = stored
            story.clean_fields(exclude=["path", "depth", "url_path", "draft_title", "content_type", "locale"])
            story.themes.set(row.themes)
            people = [
                Person.objects.get_or_create(display_name=s.display_name, birth_year=s.birth_year)[0]
                for s in row.storytellers
            ]
            story.participants = [
                StoryParticipant(person=person, role=s.role, sort_order=order)
                for order, (person, s) in enumerate(zip(people, row.storytellers, strict=True))
            ]
            if created:
                story.live = False
                StoryIndexPage.objects.get().add_child(instance=story)
            # An existing story changes through a revision, as an edit in the admin would.
            revision = story.save_revision(log_action=True)
            if publish:
                revision.publish()
            _record_consent(story=story, people=people, mode=row.consent)
    except RecordingRefused as refusal:
        raise RowError(f"the file “{row.file.name}” was refused: {refusal}") from refusal
    except ValidationError as error:
        if stored is not None:
            recording_delete_files(media=stored)
        raise RowError("; ".join(error.messages)) from error
    except BaseException:
        if stored is not None:
            recording_delete_files(media=stored)
        raise
    return created


def _record_consent(*, story: StoryPage, people: list[Person], mode: str) -> None:
    if mode == "no":
        return
    recorded_year = (story.recorded_on or timezone.localdate()).year
    for person in people:
        minor = could_be_minor(person.birth_year, recorded_year)
        if mode == "adults" and minor:
            continue
        Consent.objects.update_or_create(
            story=story,
            person=person,
            defaults={
                "given_by": GUARDIAN_ON_FORM if minor else person.display_name,
                "method": Consent.Method.SIGNED_FORM,
                "scope": Consent.Scope.PUBLIC,
                "guardian_name": GUARDIAN_ON_FORM if minor else "",
                "guardian_consented_on": (story.recorded_on or timezone.localdate()) if minor else None,
            },
        )


def _refuse_withdrawn(row: StoryRow) -> None:
    """Withdrawal keeps only keyed hashes of what a row would match; a row that matches one is never imported."""
    by_story = withdrawn_story_fingerprints(community=row.community, titles=[row.title])
    withdrawal = Withdrawal.objects.recognising(by_story).order_by("withdrawn_at").first()
    if withdrawal is not None:
        raise RowWithdrawn(
            f"“{row.title}” was withdrawn on {withdrawal.withdrawn_at:%Y-%m-%d}; "
            "a withdrawn story is never imported again"
        )
    if row.file is not None:
        by_recording = withdrawn_story_fingerprints(community="", titles=[], recording_sha256=_sha256(row.file))
        withdrawal = Withdrawal.objects.recognising(by_recording).order_by("withdrawn_at").first()
        if withdrawal is not None:
            raise RowWithdrawn(
                f"the file “{row.file.name}” is the recording of a story withdrawn on "
                f"{withdrawal.withdrawn_at:%Y-%m-%d}; a withdrawn story is never imported again"
            )


def _refuse_withdrawn_consent(row: StoryRow, story: StoryPage) -> None:
    if story.withdrawn_at is not None:
        raise RowWithdrawn(
            f"“{row.title}” was withdrawn on {story.withdrawn_at:%Y-%m-%d}; a withdrawn story is never imported again"
        )
    consent = (
        story.consents.filter(withdrawn_at__isnull=False).select_related("person").order_by("withdrawn_at").first()
    )
    if consent is not None:
        who = consent.person.display_name if consent.person else "a participant"
        raise RowWithdrawn(
            f"{who} withdrew their consent to “{row.title}” on {consent.withdrawn_at:%Y-%m-%d}; an import never "
            "gives it back. If they agree again, record their new consent in the admin"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _same_file(media, path: Path) -> bool:
    return _sha256(path) == media.sha256


def _unique_slug(model, name: str) -> str:
    base = slugify(name) or "community"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _unique_page_slug(title: str) -> str:
    index = StoryIndexPage.objects.get()
    base = slugify(title)[:200] or "story"
    slug, n = base, 2
    while index.get_children().filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def import_manifest(
    path: Path, *, publish: bool, progress: Callable[[Iterable], Iterable] | None = None
) -> ImportOutcome:
    """Import every row; a bad row is reported with its line and does not stop the others."""
    records, _ = read_manifest(path)
    outcome = ImportOutcome()
    base_dir = path.parent
    for line, record in progress(records) if progress else records:
        try:
            row = parse_row(line, record, base_dir)
            if story_import_row(row=row, publish=publish):
                outcome.created += 1
            else:
                outcome.updated += 1
        except RowWithdrawn as refusal:
            outcome.withdrawn.append((line, str(refusal)))
        except RowError as error:
            outcome.failed.append((line, str(error)))
    if (outcome.created or outcome.updated) and not connection.in_atomic_block:
        # As after any bulk load: the planner reads the rule's tables by their new sizes from the next query on. Not
        # inside a caller's transaction, where ANALYZE would hold its locks until that commits.
        refresh_statistics()
    return outcome
