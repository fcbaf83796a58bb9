"""Writes for transcripts: queue, run, retry, correct, choose the current one. Only these change a transcript's status."""

import dataclasses
import datetime
import hashlib
import logging
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from stories.media import RecordingRefused, probe_recording, recording_folder
from stories.models import StoryMedia, StoryPage, StoryParticipant, private_storage
from stories.page_cache import forget_now_and_on_commit
from stories.storage import delete_files, local_copy, staged_path, store_local_file
from stories.validators import language_label

from .alignment import NothingHeardInCommon, align
from .engine import EngineUnavailable, LanguageUnsupported, RecordingUnreadable, Transcription, engine_for
from .models import Redaction, RedactionEvent, RedactionRemake, Segment, Transcript, WrittenRedaction
from .playback import (
    ACCESS_CONTENT_TYPE,
    PlaybackFailed,
    access_copy_write,
    browsers_play_original,
    original_redacted_write,
    poster_write,
    video_copy_write,
)
from .selectors import RedactionHeld, WrittenRedactionHeld, block_text, redacted_spans, story_withdrawn, text_digest
from .signals import transcript_ready, written_text_redacted
from .transcript_files import ParsedTranscript, clock

logger = logging.getLogger(__name__)

Status = Transcript.Status
PROGRESS_SAVE_SECONDS = 2.0
# How a transcript people made is told apart: its times came with it, or the worker lined its words up.
PEOPLE_TIMED = "people"
PEOPLE_ALIGNED = "people, aligned by Whisper"
FINISHED_FIELDS = [
    "status", "language", "language_probability", "duration_seconds", "no_speech", "progress", "error",
    "machine_generated", "reviewed", "reviewed_at", "finished_at", "real_time_factor",
]  # fmt: skip


def max_attempts() -> int:
    return getattr(settings, "TRANSCRIPTION_MAX_ATTEMPTS", 4)


def retry_backoff_seconds() -> float:
    return getattr(settings, "TRANSCRIPTION_RETRY_BACKOFF_SECONDS", 30.0)


def lease_seconds() -> float:
    """How long a running job may go without a heartbeat before the reaper takes it back."""
    return getattr(settings, "TRANSCRIPTION_LEASE_SECONDS", 120.0)


class CorrectionsWouldBeLost(ValueError):
    """Running a model again would replace text a facilitator corrected; they must ask for that explicitly."""


class RecordingUnreachable(OSError):
    """The recording's file is not there right now (storage unmounted, still copying); worth trying again."""


def retry_delay_seconds(attempts: int) -> float:
    """The pause before trying again after `attempts` tries: the back-off doubles each time."""
    return retry_backoff_seconds() * 2 ** (attempts - 1)


def _enqueue_on_commit(job, *, delay_seconds: float = 0, **arguments) -> None:
    """Queue a worker job once the surrounding transaction commits (so a rollback never runs it), after a pause."""

    def enqueue():
        deferred = job
        if delay_seconds and job.get_backend().supports_defer:
            deferred = job.using(run_after=timezone.now() + datetime.timedelta(seconds=delay_seconds))
        deferred.enqueue(**arguments)

    transaction.on_commit(enqueue)


def _enqueue(transcript: Transcript, *, delay_seconds: float = 0) -> None:
    from .tasks import transcribe_recording

    _enqueue_on_commit(transcribe_recording, delay_seconds=delay_seconds, transcript_id=transcript.pk)


@transaction.atomic
def transcript_request(
    *, media: StoryMedia, model_name: str | None = None, supersede_corrections: bool = False
) -> Transcript:
    """Queue a transcript of a recording with a model (the configured one by default); one per recording and model."""
    model_name = model_name or settings.TRANSCRIPTION_MODEL
    transcript, created = Transcript.objects.get_or_create(
        media=media, model_name=model_name, defaults={"engine": engine_for(model_name).name}
    )
    if not created:
        transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
        if transcript.status in (Status.QUEUED, Status.RUNNING):
            return transcript
        if transcript.is_corrected and not supersede_corrections:
            raise CorrectionsWouldBeLost(
                "A facilitator corrected this transcript. Running the same model again would replace their "
                "corrections; ask for that explicitly if you mean it."
            )
    transcript.status = Status.QUEUED
    transcript.progress = 0
    transcript.error = ""
    transcript.attempts = 0
    transcript.supersede_corrections = supersede_corrections
    transcript.save(update_fields=["status", "progress", "error", "attempts", "supersede_corrections", "updated_at"])
    _enqueue(transcript)
    return transcript


def transcript_retry(*, transcript: Transcript) -> Transcript:
    """Queue a failed transcript again from the start, with a fresh count of attempts."""
    return transcript_request(
        media=transcript.media,
        model_name=transcript.model_name,
        supersede_corrections=transcript.supersede_corrections,
    )


@transaction.atomic
def transcript_fail(*, transcript_id: int, reason: str) -> None:
    """Mark a transcript failed with a reason a facilitator can act on."""
    Transcript.objects.filter(pk=transcript_id).update(
        status=Status.FAILED, error=reason, finished_at=timezone.now(), updated_at=timezone.now()
    )
    logger.warning("transcript %s failed: %s", transcript_id, reason)


@contextmanager
def _heartbeat(model: type[Transcript] | type[RedactionRemake], pk):
    """Touch the running row (a transcript, a recording's remaking) while work goes on, so the reaper can tell a
    slow job from a dead worker."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(max(lease_seconds() / 4, 0.5)):
                try:
                    model.objects.filter(pk=pk, status=model.Status.RUNNING).update(updated_at=timezone.now())
                except DatabaseError as error:
                    # A missed beat only brings the lease closer; the next one may get through (a busy SQLite file).
                    logger.warning("heartbeat for %s %s missed: %s", model._meta.model_name, pk, error)
        finally:
            connection.close()

    beater = threading.Thread(target=beat, name=f"heartbeat-{pk}", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join()


def _run_claim(row: Transcript | RedactionRemake, *, busy: str, **fields) -> bool:
    """Mark a locked job's row (a transcript, a recording's remaking) running for this worker, with one more attempt
    and any other `fields` set; False when it is done, failed, or being made by a worker whose heartbeat is fresh
    (`busy` is logged then, with the row's key)."""
    if row.status in (row.Status.DONE, row.Status.FAILED):
        return False
    fresh = timezone.now() - datetime.timedelta(seconds=lease_seconds())
    if row.status == row.Status.RUNNING and row.updated_at > fresh:
        logger.info(busy, row.pk)
        return False
    row.status = row.Status.RUNNING
    row.attempts += 1
    row.started_at = timezone.now()
    row.error = ""
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=["status", "attempts", "started_at", *fields, "error", "updated_at"])
    return True


def _retry_queue(row: Transcript | RedactionRemake, *, reason: str, job, log_line: str, **arguments) -> None:
    """Queue a locked job's row again after a passing failure, once the pause its attempts call for has passed
    (`log_line` is logged, with the row's key, the pause and the reason)."""
    row.status = row.Status.QUEUED
    row.error = f"Will try again: {reason}"
    row.save(update_fields=["status", "error", "updated_at"])
    delay = retry_delay_seconds(row.attempts)
    logger.info(log_line, row.pk, delay, reason)
    _enqueue_on_commit(job, delay_seconds=delay, **arguments)


def _claim(transcript_id: int) -> Transcript | None:
    """Mark the transcript running for this worker, or None when there is nothing (left) to do."""
    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().filter(pk=transcript_id).first()
        if transcript is None or not _run_claim(
            transcript, busy="transcript %s is being made by another worker", progress=0
        ):
            return None
    return Transcript.objects.select_related("media").get(pk=transcript_id)


def transcript_run(*, transcript_id: int) -> str:
    """Make the access copy and the transcript for one queued transcript; what happened, in a word."""
    transcript = _claim(transcript_id)
    if transcript is None:
        return "skipped"
    media = transcript.media
    if story_withdrawn(media_id=media.pk):
        transcript_fail(transcript_id=transcript_id, reason="The story was withdrawn, so no transcript is kept.")
        return "withdrawn"
    # People's words without times: Whisper hears the recording only to time them.
    aligning = transcript.engine == PEOPLE_ALIGNED
    started = time.monotonic()
    try:
        with _heartbeat(Transcript, transcript_id):
            with _recording_file(media) as path:
                if not aligning:
                    recording_prepare_playback(media=media, path=path)
                engine = engine_for(None if aligning else transcript.model_name)
                _check_language(engine=engine, media=media)
                result = engine.transcribe(path, on_progress=_progress_saver(transcript_id, media.duration_seconds))
            if aligning:
                heard = [word for segment in result.segments for word in segment.words]
                result.segments = align(transcript.source_text, heard, duration=result.duration)
    except NothingHeardInCommon as error:
        transcript_fail(transcript_id=transcript_id, reason=str(error))
        return "failed"
    except (RecordingUnreadable, LanguageUnsupported) as error:
        access_copy_fail(media_id=media.pk, reason=str(error))
        transcript_fail(transcript_id=transcript_id, reason=str(error))
        return "failed"
    except EngineUnavailable as error:
        transcript_fail(
            transcript_id=transcript_id, reason=f"The transcription model is not available on the server: {error}"
        )
        return "failed"
    except (RecordingUnreachable, DatabaseError, OSError, MemoryError) as error:
        return transcript_retry_later(transcript_id=transcript_id, reason=str(error) or type(error).__name__)
    return transcript_save(
        transcript_id=transcript_id, result=result, elapsed=time.monotonic() - started, made_by_people=aligning
    )


def _check_language(*, engine, media: StoryMedia) -> None:
    """An English-only model turns other languages into invented English; say so instead of saving it."""
    languages = StoryPage.objects.filter(recording=media).values_list("language", flat=True)
    foreign = next((code for code in languages if code.split("-")[0].lower() != "en"), None)
    if foreign and engine.english_only:
        raise LanguageUnsupported(
            f"This story is told in {language_label(foreign)}, and the transcription model on the server "
            f"({engine.model_name}) understands English only. Install the multilingual model "
            "(TRANSCRIPTION_MODEL=base, see the README) and transcribe again."
        )


@contextmanager
def _recording_file(media: StoryMedia):
    """The original as a file PyAV and Whisper can open (a temporary copy when it is in a bucket), checked first."""
    try:
        with local_copy(private_storage(), media.file.name) as path:
            try:
                probe_recording(path)
            except RecordingRefused as refusal:
                raise RecordingUnreadable(str(refusal)) from refusal
            yield path
    except FileNotFoundError as error:
        raise RecordingUnreachable("The recording's file could not be reached.") from error


def recording_prepare_playback(*, media: StoryMedia, path: Path) -> bool:
    """Make what browsers play: the original video if they can, else an AAC copy; and a poster for video. Each is
    silent over every redacted passage of the recording, and a poster is never a frame shown during one.

    Each is made on this machine from `path` and then stored beside the original, replacing an older one. False when
    the redactions changed while they were made: nothing is kept, and the job queued by that change makes them.
    """
    storage = private_storage()
    folder = recording_folder(media.pk)
    spans = redacted_spans(media_id=media.pk)
    # A redacted copy gets a name of its own, so a job made for other passages never writes over the file the public
    # is given: a name is served only once the row points at it, below.
    mark = f"-{uuid.uuid4().hex[:12]}" if spans else ""
    values, stored = {}, []
    made = None
    try:
        if media.has_video and browsers_play_original(
            video_codec=media.video_codec, audio_codec=media.audio_codec, file_name=media.file.name
        ):
            # Browsers play the original's pictures and sound as they are, but not its tags (a phone's location).
            suffix = Path(media.file.name).suffix.lower()
            made = staged_path(storage, suffix=suffix)
            video_copy_write(source=path, destination=made, silences=spans)
            values["access_copy"] = store_local_file(
                storage, path=made, name=f"{folder}/access{mark}{suffix}", content_type=media.content_type
            )
            values["access_content_type"] = media.content_type
        else:
            made = staged_path(storage, suffix=".m4a")
            access_copy_write(source=path, destination=made, silences=spans)
            values["access_copy"] = store_local_file(
                storage, path=made, name=f"{folder}/access{mark}.m4a", content_type=ACCESS_CONTENT_TYPE
            )
            values["access_content_type"] = ACCESS_CONTENT_TYPE
        stored.append(values["access_copy"])
        if media.has_video:
            made = staged_path(storage, suffix=".jpg")
            if poster_write(source=path, destination=made, avoid=spans):
                values["poster"] = store_local_file(
                    storage, path=made, name=f"{folder}/poster{mark}.jpg", content_type="image/jpeg"
                )
                stored.append(values["poster"])
            elif spans:
                values["poster"] = ""  # every frame is shown during a redacted passage: no poster at all
    except PlaybackFailed as error:
        if mark:
            _forget_files(stored)
        raise RecordingUnreadable(str(error)) from error
    finally:
        if made is not None:
            made.unlink(missing_ok=True)
    values["access_copy_error"] = ""
    with transaction.atomic():
        current = StoryMedia.objects.select_for_update().filter(pk=media.pk).values("access_copy", "poster").first()
        kept = current is not None and redacted_spans(media_id=media.pk) == spans
        if kept:
            StoryMedia.objects.filter(pk=media.pk).update(**values)
            forget_now_and_on_commit()  # pages that said "being prepared" now have a player
            replaced = [current[name] for name in ("access_copy", "poster") if name in values]
            transaction.on_commit(lambda: _forget_files([name for name in replaced if name not in stored]))
    if not kept:
        if mark:  # a name of this job's own, which nothing points at
            _forget_files(stored)
        logger.info("recording %s: copies made for passages redacted since are not kept", media.pk)
        return False
    for name, value in values.items():
        setattr(media, name, value)
    return True


def _forget_files(names) -> None:
    delete_files(private_storage(), names)


def access_copy_fail(*, media_id, reason: str) -> None:
    """Record why a recording has no access copy, for the admin; the public keeps hearing "being prepared".

    A recording that already has an access copy keeps it: a later failure (a transcript) takes nothing away.
    """
    if StoryMedia.objects.filter(pk=media_id, access_copy="").update(access_copy_error=reason):
        logger.warning("no access copy could be made of recording %s: %s", media_id, reason)


def _progress_saver(transcript_id: int, duration: float | None):
    last_saved = 0.0

    def save(seconds_done: float) -> None:
        nonlocal last_saved
        if not duration or time.monotonic() - last_saved < PROGRESS_SAVE_SECONDS:
            return
        last_saved = time.monotonic()
        progress = min(int(seconds_done / duration * 100), 99)
        Transcript.objects.filter(pk=transcript_id, status=Status.RUNNING).update(
            progress=progress, updated_at=timezone.now()
        )

    return save


def transcript_retry_later(*, transcript_id: int, reason: str) -> str:
    """Queue a transient failure again after a growing pause, or fail it once the attempts are spent."""
    from .tasks import transcribe_recording

    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().filter(pk=transcript_id).first()
        if transcript is None:
            return "gone"
        if transcript.attempts >= max_attempts():
            transcript.status = Status.FAILED
            transcript.error = (
                f"Transcription failed {transcript.attempts} times and has stopped trying. The last problem was: "
                f"{reason}. Use “Retry” once it is fixed."
            )
            transcript.finished_at = timezone.now()
            transcript.save(update_fields=["status", "error", "finished_at", "updated_at"])
            access_copy_fail(media_id=transcript.media_id, reason=transcript.error)
            logger.warning("transcript %s gave up after %s attempts: %s", transcript_id, transcript.attempts, reason)
            return "failed"
        _retry_queue(
            transcript,
            reason=reason,
            job=transcribe_recording,
            log_line="transcript %s will be tried again in %.0f s: %s",
            transcript_id=transcript.pk,
        )
    return "retrying"


def transcript_save(*, transcript_id: int, result: Transcription, elapsed: float, made_by_people: bool = False) -> str:
    """Keep the segments, unless the story was withdrawn or the recording deleted meanwhile; announce on commit.

    Segments made_by_people (their words lined up with the recording) are reviewed already."""
    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().filter(pk=transcript_id).first()
        if transcript is None or not StoryMedia.objects.filter(pk=transcript.media_id).exists():
            return "gone"
        if story_withdrawn(media_id=transcript.media_id):
            transcript.status = Status.FAILED
            transcript.error = "The story was withdrawn, so no transcript is kept."
            transcript.save(update_fields=["status", "error", "updated_at"])
            return "withdrawn"
        transcript.segments.all().delete()
        Segment.objects.bulk_create(
            Segment(
                transcript=transcript,
                index=position,
                start=round(spoken.start, 3),
                end=round(spoken.end, 3),
                text=spoken.text,
                words=[vars(word) for word in spoken.words],
            )
            for position, spoken in enumerate(result.segments)
        )
        transcript.status = Status.DONE
        transcript.language = result.language
        transcript.language_probability = result.language_probability
        transcript.duration_seconds = result.duration
        transcript.no_speech = not result.segments
        transcript.progress = 100
        transcript.error = ""
        transcript.machine_generated = not made_by_people
        transcript.reviewed = made_by_people
        transcript.reviewed_at = timezone.now() if made_by_people else None
        transcript.finished_at = timezone.now()
        transcript.real_time_factor = round(elapsed / result.duration, 4) if result.duration else None
        transcript.version += 1  # new segments: an open corrector must reload before it saves
        transcript.save(update_fields=[*FINISHED_FIELDS, "version", "updated_at"])
        _make_current_if_allowed(transcript)
        _announce(transcript)
    logger.info(
        "transcript %s done: %s segments, %.1f s of %s in %.1f s",
        transcript_id,
        len(result.segments),
        result.duration,
        result.language,
        elapsed,
    )
    return "done"


def _make_current_if_allowed(transcript: Transcript) -> None:
    current = Transcript.objects.select_for_update().filter(media_id=transcript.media_id, is_current=True).first()
    if current and current.pk == transcript.pk:
        return
    if current and current.is_corrected and not transcript.supersede_corrections:
        return  # the corrected text stays what people read until a facilitator chooses otherwise
    if current:
        current.is_current = False
        current.save(update_fields=["is_current", "updated_at"])
    transcript.is_current = True
    transcript.save(update_fields=["is_current", "updated_at"])


class UploadRefused(ValueError):
    """A transcript cannot be attached to this recording (its story was withdrawn)."""


@transaction.atomic
def transcript_upload(*, media: StoryMedia, parsed: ParsedTranscript, file_name: str, language: str) -> Transcript:
    """Attach a transcript people made, as reviewed. Timed cues become what people read at once; text without times
    is queued for the worker to line up with the recording, and the transcript people read stays until it is done.
    Every earlier transcript is kept, and a facilitator can make one of them current again."""
    if story_withdrawn(media_id=media.pk):
        raise UploadRefused("The story was withdrawn, so no transcript is kept.")
    # One upload at a time per recording, so each gets its own number.
    StoryMedia.objects.select_for_update().filter(pk=media.pk).first()
    taken = set(Transcript.objects.filter(media=media).values_list("model_name", flat=True))
    number = 1 + Transcript.objects.filter(media=media, engine__in=(PEOPLE_TIMED, PEOPLE_ALIGNED)).count()
    while (label := f"uploaded {number}: {file_name or 'pasted text'}"[:200]) in taken:
        number += 1
    common = {
        "media": media,
        "model_name": label,
        "language": language,
        "machine_generated": False,
        # What people made replaces what the people read now, corrected or not: a facilitator chose it.
        "supersede_corrections": True,
    }
    if not parsed.timed:
        transcript = Transcript.objects.create(
            **common, engine=PEOPLE_ALIGNED, status=Status.QUEUED, source_text=parsed.text
        )
        _enqueue(transcript)
        return transcript
    now = timezone.now()
    transcript = Transcript.objects.create(
        **common,
        engine=PEOPLE_TIMED,
        status=Status.DONE,
        duration_seconds=media.duration_seconds,
        progress=100,
        reviewed=True,
        reviewed_at=now,
        finished_at=now,
    )
    speakers = _participants_by_name(media)
    Segment.objects.bulk_create(
        Segment(
            transcript=transcript,
            index=position,
            start=round(cue.start, 3),
            end=round(cue.end, 3),
            text=cue.text,
            speaker_id=speakers.get(cue.speaker.casefold()) if cue.speaker else None,
        )
        for position, cue in enumerate(parsed.cues)
    )
    _make_current_if_allowed(transcript)
    _announce(transcript)
    return transcript


def _participants_by_name(media: StoryMedia) -> dict[str, int]:
    """The people a voice tag (<v Name>) may name: the participants of the stories told with this recording."""
    return {
        " ".join(name.split()).casefold(): person_id
        for person_id, name in StoryParticipant.objects.filter(page__recording=media).values_list(
            "person_id", "person__display_name"
        )
    }


@transaction.atomic
def transcript_make_current(*, transcript: Transcript) -> None:
    """Make a finished transcript the one people read for its recording."""
    transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
    if transcript.status != Status.DONE:
        raise ValueError("Only a finished transcript can be the one people read.")
    Transcript.objects.filter(media_id=transcript.media_id, is_current=True).exclude(pk=transcript.pk).update(
        is_current=False
    )
    transcript.is_current = True
    transcript.save(update_fields=["is_current", "updated_at"])
    _announce(transcript)


@transaction.atomic
def transcript_correct(*, transcript: Transcript, texts: dict[int, str]) -> int:
    """Replace the text of segments (by id) with a facilitator's corrections; times stay. Returns how many changed."""
    transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
    changed = 0
    for segment in transcript.segments.filter(pk__in=texts):
        text = " ".join(texts[segment.pk].split())
        if text and text != segment.text:
            segment.text = text
            segment.edited = True
            segment.save(update_fields=["text", "edited"])
            changed += 1
    transcript.reviewed = True
    transcript.reviewed_at = timezone.now()
    transcript.version += 1  # an open corrector's next autosave is told someone else changed it
    transcript.save(update_fields=["reviewed", "reviewed_at", "version", "updated_at"])
    _announce(transcript)
    return changed


def _announce(transcript: Transcript) -> None:
    transcript_id, media_id = transcript.pk, transcript.media_id
    transaction.on_commit(
        lambda: transcript_ready.send(sender=Transcript, transcript_id=transcript_id, media_id=media_id)
    )


# The corrector: one change at a time, each against the version of the transcript the facilitator saw.

SHORTEST_SEGMENT_SECONDS = 0.1
_RENUMBERING_OFFSET = 1_000_000


class TranscriptChanged(Exception):
    """The transcript moved on since the facilitator loaded it: someone else saved a change first."""

    message = "Someone else changed this transcript; reload to see their changes."

    def __init__(self, *, version: int):
        self.version = version
        super().__init__(self.message)


class CorrectionRefused(ValueError):
    """A change the corrector cannot make (an empty segment, a speaker who is not in the story); says what to do."""


def _locked_for_change(transcript: Transcript, version: int) -> Transcript:
    transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
    if transcript.status != Status.DONE:
        raise CorrectionRefused("Only a finished transcript can be corrected.")
    if transcript.version != version:
        raise TranscriptChanged(version=transcript.version)
    return transcript


def _segment_of(transcript: Transcript, segment_id: int) -> Segment:
    segment = transcript.segments.filter(pk=segment_id).first()
    if segment is None:
        raise CorrectionRefused("This segment is no longer in the transcript; reload to see it as it is.")
    return segment


def _changed(transcript: Transcript) -> Transcript:
    """Count the change, mark the transcript reviewed, and let search and the captions know on commit."""
    transcript.version += 1
    transcript.reviewed = True
    transcript.reviewed_at = timezone.now()
    transcript.save(update_fields=["version", "reviewed", "reviewed_at", "updated_at"])
    _announce(transcript)
    return transcript


def _renumber(transcript: Transcript) -> None:
    """Indexes 0, 1, 2… in time order again, stepping around the one-segment-per-position constraint."""
    segments = list(transcript.segments.order_by("index", "start", "pk"))
    transcript.segments.update(index=models.F("index") + _RENUMBERING_OFFSET)
    for position, segment in enumerate(segments):
        segment.index = position
    Segment.objects.bulk_update(segments, ["index"])


def _clean_text(text: str) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise CorrectionRefused("A segment cannot be left empty: write its words, or merge it with its neighbour.")
    return text


@transaction.atomic
def segment_text_set(*, transcript: Transcript, version: int, segment_id: int, text: str) -> Transcript:
    """Replace one segment's words; its times stay."""
    transcript = _locked_for_change(transcript, version)
    segment = _segment_of(transcript, segment_id)
    segment.text = _clean_text(text)
    segment.edited = True
    segment.save(update_fields=["text", "edited"])
    return _changed(transcript)


@transaction.atomic
def segment_speaker_set(
    *, transcript: Transcript, version: int, segment_id: int, speaker_id: int | None, story: StoryPage
) -> Transcript:
    """Say who speaks a segment: one of the story's participants, or nobody named."""
    transcript = _locked_for_change(transcript, version)
    segment = _segment_of(transcript, segment_id)
    if speaker_id is not None and not story.participants.filter(person_id=speaker_id).exists():
        raise CorrectionRefused("Choose the speaker from this story's participants.")
    segment.speaker_id = speaker_id
    segment.edited = True
    segment.save(update_fields=["speaker", "edited"])
    return _changed(transcript)


def _recording_duration(transcript: Transcript) -> float | None:
    return transcript.duration_seconds or transcript.media.duration_seconds


@transaction.atomic
def segment_times_set(*, transcript: Transcript, version: int, segment_id: int, start: float, end: float) -> Transcript:
    """Move a segment's start and end, kept after the segment before it, before the next and within the recording."""
    transcript = _locked_for_change(transcript, version)
    segment = _segment_of(transcript, segment_id)
    before = transcript.segments.filter(index__lt=segment.index).order_by("-index").first()
    after = transcript.segments.filter(index__gt=segment.index).order_by("index").first()
    # Neighbours that already overlapped (as Whisper's sometimes do) may keep doing so, but not more.
    earliest = min(before.end, segment.start) if before else 0.0
    latest = max(after.start, segment.end) if after else (_recording_duration(transcript) or max(end, segment.end))
    start = min(max(float(start), earliest), latest - SHORTEST_SEGMENT_SECONDS)
    end = max(min(float(end), latest), start + SHORTEST_SEGMENT_SECONDS)
    segment.start, segment.end = round(max(start, 0.0), 3), round(end, 3)
    segment.edited = True
    segment.save(update_fields=["start", "end", "edited"])
    return _changed(transcript)


@transaction.atomic
def segments_merge(*, transcript: Transcript, version: int, segment_id: int) -> Transcript:
    """Join a segment with the one after it: one span, both texts, every word timing kept."""
    transcript = _locked_for_change(transcript, version)
    segment = _segment_of(transcript, segment_id)
    following = transcript.segments.filter(index__gt=segment.index).order_by("index").first()
    if following is None:
        raise CorrectionRefused("This is the last segment: there is no segment after it to merge with.")
    segment.start = min(segment.start, following.start)
    segment.end = max(segment.end, following.end)
    segment.text = f"{segment.text} {following.text}".strip()
    segment.words = [*(segment.words or []), *(following.words or [])]
    segment.speaker_id = segment.speaker_id or following.speaker_id
    segment.edited = True
    following.delete()
    segment.save(update_fields=["start", "end", "text", "words", "speaker", "edited"])
    _renumber(transcript)
    return _changed(transcript)


def _word_boundary(text: str, at: int) -> int:
    """The cursor moved out of a word to the space before it (or after it, at the first word): words stay whole."""
    at = min(max(at, 0), len(text))

    def inside(i: int) -> bool:
        return 0 < i < len(text) and not text[i - 1].isspace() and not text[i].isspace()

    back = at
    while inside(back):
        back -= 1
    if text[:back].strip():
        return back
    while inside(at):
        at += 1
    return at


def _split_moment(segment: Segment, first: str, second: str) -> float:
    """When the second part begins: its first word's timing when the words still match the text, else by length."""
    words = segment.words or []
    first_count = len(first.split())
    if words and len(words) == first_count + len(second.split()):
        moment = float(words[first_count].get("start", segment.start))
    else:
        moment = segment.start + (segment.end - segment.start) * len(first) / (len(first) + len(second) + 1)
    return min(max(moment, segment.start + SHORTEST_SEGMENT_SECONDS / 2), segment.end - SHORTEST_SEGMENT_SECONDS / 2)


@transaction.atomic
def segment_split(
    *, transcript: Transcript, version: int, segment_id: int, at: int, text: str | None = None
) -> Transcript:
    """Cut a segment in two at a character of its text (what the facilitator sees when `text` is given)."""
    transcript = _locked_for_change(transcript, version)
    segment = _segment_of(transcript, segment_id)
    whole = str(text) if text is not None else segment.text
    at = _word_boundary(whole, int(at))
    first, second = " ".join(whole[:at].split()), " ".join(whole[at:].split())
    if not first or not second:
        raise CorrectionRefused("Put the cursor between two words to split the segment there.")
    if segment.end - segment.start < 2 * SHORTEST_SEGMENT_SECONDS:
        raise CorrectionRefused("This segment is too short to split.")
    moment = round(_split_moment(segment, first, second), 3)
    words = segment.words or []
    Segment.objects.create(
        transcript=transcript,
        index=_RENUMBERING_OFFSET * 2,  # renumbered just below, after its segment
        start=moment,
        end=segment.end,
        text=second,
        words=[word for word in words if float(word.get("start", 0)) >= moment],
        speaker_id=segment.speaker_id,
        edited=True,
    )
    segment.end = moment
    segment.text = first
    segment.words = [word for word in words if float(word.get("start", 0)) < moment]
    segment.edited = True
    segment.save(update_fields=["end", "text", "words", "edited"])
    _renumber_after_split(transcript, segment)
    return _changed(transcript)


def _renumber_after_split(transcript: Transcript, segment: Segment) -> None:
    later = list(transcript.segments.filter(index__gt=segment.index).order_by("index", "pk"))
    new = next(s for s in later if s.index == _RENUMBERING_OFFSET * 2)
    ordered = list(transcript.segments.filter(index__lte=segment.index).order_by("index"))
    ordered += [new, *(s for s in later if s.pk != new.pk)]
    transcript.segments.update(index=models.F("index") + _RENUMBERING_OFFSET * 3)
    for position, each in enumerate(ordered):
        each.index = position
    Segment.objects.bulk_update(ordered, ["index"])


# Redaction: the public and storytellers' copies read "[redacted]" for a passage (see selectors.public_segments).


def _redaction_announce(media_id) -> None:
    """Every story told with the recording is indexed again, so search, suggestions and moments follow at once."""
    transaction.on_commit(
        lambda: transcript_ready.send(
            sender=Redaction,
            transcript_id=Transcript.objects.readable().filter(media_id=media_id).values_list("pk", flat=True).first(),
            media_id=media_id,
        )
    )


def _redaction_event(*, action: str, redaction: Redaction | WrittenRedaction, user, **where) -> None:
    """The audit of a redaction of either kind: who, when, which span (`where` names the recording or the block) and
    why, never the words."""
    signed_in = user is not None and user.is_authenticated
    RedactionEvent.objects.create(
        action=action,
        start=redaction.start,
        end=redaction.end,
        reason=redaction.reason,
        user=user if signed_in else None,
        username=user.get_username() if signed_in else "",
        **where,
    )


def _redaction_audit(*, action: str, redaction: Redaction, user) -> None:
    _redaction_event(action=action, redaction=redaction, user=user, media_id=redaction.media_id)
    # Times and ids only: a log line never carries the words, nor the reason, which may describe them.
    logger.info(
        "recording %s: %.2f-%.2f s %s by user %s",
        redaction.media_id,
        redaction.start,
        redaction.end,
        action,
        user.pk if user is not None else None,
    )


class RedactionUndoRefused(ValueError):
    """A redaction's sound cannot be brought back (the original was redacted too); the message says what can be."""


def _playback_withdraw(media_id) -> None:
    """Take the access copy and poster from the public until they are made again silent over the new passage: the
    recording answers "being prepared" meanwhile. Their files go once the redaction is committed."""
    current = StoryMedia.objects.filter(pk=media_id).values("access_copy", "poster").first() or {}
    StoryMedia.objects.filter(pk=media_id).update(access_copy="", poster="")
    names = [current.get("access_copy"), current.get("poster")]
    transaction.on_commit(lambda: _forget_files(names))


def _playback_remake(media_id, *, enqueue: bool = True) -> None:
    """Ask for the copies to be made again (and the original rewritten if asked), with a fresh count of attempts;
    the worker's job is queued once this commits. A worker still making them for the redactions as they were
    finishes nothing of this request (see RedactionRemake.version)."""
    from .tasks import redact_recording

    RedactionRemake.objects.get_or_create(media_id=media_id)
    RedactionRemake.objects.filter(pk=media_id).update(
        status=RedactionRemake.Status.QUEUED,
        version=models.F("version") + 1,
        attempts=0,
        error="",
        finished_at=None,
        updated_at=timezone.now(),
    )
    if enqueue:
        _enqueue_on_commit(redact_recording, media_id=str(media_id))


def _lock_recording(media_id) -> None:
    # Redactions of one recording change one at a time, and never while its new copies are being made the public's.
    StoryMedia.objects.select_for_update().filter(pk=media_id).first()


@transaction.atomic
def redaction_create(
    *, media: StoryMedia, start: float, end: float, reason: str, user, original_too: bool = False
) -> Redaction:
    """Redact a passage of a recording from start to end (seconds), with the reason; audited, and searched no more.

    The public hears nothing of the recording until the worker has made its copies again, silent over the passage;
    with original_too the worker writes the preservation original again with the silence as well."""
    _lock_recording(media.pk)
    redaction = Redaction.objects.create(
        media=media,
        start=start,
        end=end,
        reason=reason.strip(),
        original_too=original_too,
        created_by=user if user.is_authenticated else None,
    )
    _redaction_audit(action=RedactionEvent.Action.REDACTED, redaction=redaction, user=user)
    _playback_withdraw(media.pk)
    _redaction_announce(media.pk)
    _playback_remake(media.pk)
    return redaction


@transaction.atomic
def redaction_undo(*, redaction: Redaction, user, words_only: bool = False) -> None:
    """Undo a redaction: the words it covered are read and searched again; the audit keeps that it was undone.

    The copies are made again without its silence (the others' stay); until then the public hears the copy silent
    over it. A redaction of the original too cannot be undone: only its words come back (words_only), never the sound.
    """
    _lock_recording(redaction.media_id)
    redaction = Redaction.objects.filter(pk=redaction.pk).first()
    if redaction is None:
        return  # undone already, by someone else
    action = RedactionEvent.Action.RESTORED
    if redaction.original_too:
        span = f"{clock(redaction.start)}–{clock(redaction.end)}"
        if not words_only:
            raise RedactionUndoRefused(
                f"The original was redacted too: the sound of {span} is gone for good and cannot be brought back. "
                "“Restore the words” puts back the words only; the passage stays silent."
            )
        if redaction.original_redacted_at is None:
            raise RedactionUndoRefused(
                f"The original is still being written again with silence over {span}. Restore the words once that "
                "is done (this page says so)."
            )
        action = RedactionEvent.Action.WORDS_RESTORED
    _redaction_audit(action=action, redaction=redaction, user=user)
    media_id = redaction.media_id
    redaction.delete()
    _redaction_announce(media_id)
    _playback_remake(media_id)


RemakeStatus = RedactionRemake.Status


@transaction.atomic
def redaction_remake_retry(*, media: StoryMedia) -> bool:
    """A facilitator's "Try again" on copies that could not be made after a redaction: queued again with a fresh
    count of attempts. False when they are not failed (queued, being made or made meanwhile)."""
    _lock_recording(media.pk)
    if not RedactionRemake.objects.filter(media_id=media.pk, status=RemakeStatus.FAILED).exists():
        return False
    _playback_remake(media.pk)
    return True


def _remake_claim(media_id) -> int | None:
    """Mark the remaking running for this worker and return its version, or None when there is nothing to do: made
    already, failed (a facilitator tries again), or being made by a worker whose heartbeat is fresh."""
    with transaction.atomic():
        RedactionRemake.objects.get_or_create(media_id=media_id)  # a job queued before remakings had a state
        remake = RedactionRemake.objects.select_for_update().get(pk=media_id)
        if not _run_claim(remake, busy="recording %s: its copies are being made by another worker"):
            return None
    return remake.version


def _remake_end(media_id, *, version: int, status: str, error: str = "") -> bool:
    """Record how the remaking asked for as `version` ended; False when a newer request has taken its place."""
    ended = RedactionRemake.objects.filter(pk=media_id, version=version).update(
        status=status, error=error, finished_at=timezone.now(), updated_at=timezone.now()
    )
    if ended and status == RemakeStatus.FAILED:
        access_copy_fail(media_id=media_id, reason=error)
    return bool(ended)


def redaction_remake_fail(*, media_id, version: int | None = None, reason: str) -> None:
    """Mark a recording's remaking failed with a reason a facilitator can act on; the public goes on being told the
    recording is being prepared (the copy silent over more than it needs, after an undo) until "Try again" works."""
    if version is None:
        version = RedactionRemake.objects.filter(pk=media_id).values_list("version", flat=True).first() or 0
    if _remake_end(media_id, version=version, status=RemakeStatus.FAILED, error=reason):
        logger.warning("recording %s: its copies were not made again after a redaction: %s", media_id, reason)


def _remake_retry_later(media_id, *, version: int, reason: str) -> str:
    """Queue a passing failure again after a growing pause, or fail it once the attempts are spent: the same rule,
    attempts and back-off as a transcript's."""
    from .tasks import redact_recording

    with transaction.atomic():
        remake = RedactionRemake.objects.select_for_update().filter(pk=media_id, version=version).first()
        if remake is None:
            return "superseded"
        if remake.attempts >= max_attempts():
            redaction_remake_fail(
                media_id=media_id,
                version=version,
                reason=(
                    f"The listening copy could not be made again after a redaction: it failed {remake.attempts} "
                    f"times and has stopped trying. The last problem was: {reason}. Use “Try again” once it is fixed."
                ),
            )
            return "failed"
        _retry_queue(
            remake,
            reason=reason,
            job=redact_recording,
            log_line="recording %s: its copies will be made again in %.0f s: %s",
            media_id=str(media_id),
        )
    return "retrying"


def recording_redact(*, media_id) -> str:
    """The worker's part of a redaction or an undo: the copies made again silent over every redacted passage, then
    the original written again where "redact the original too" asked for it. What happened, in a word.

    A file that cannot be read fails at once, with the reason; a passing problem (storage out of reach, a full
    disk, the database busy) is tried again after a pause, as a transcript is; whatever else goes wrong is recorded
    as a failure before the job ends, so the admin always says why the recording is still being prepared."""
    media = StoryMedia.objects.filter(pk=media_id).first()
    if media is None:
        return "gone"
    if story_withdrawn(media_id=media.pk):
        return "withdrawn"
    version = _remake_claim(media.pk)
    if version is None:
        return "skipped"
    started = time.monotonic()
    try:
        with _heartbeat(RedactionRemake, media.pk):
            with _recording_file(media) as path:
                made = recording_prepare_playback(media=media, path=path)
            if Redaction.objects.filter(
                media_id=media.pk, original_too=True, original_redacted_at__isnull=True
            ).exists():
                with _recording_file(media) as path:
                    _original_redact(media=media, path=path)
    except RecordingUnreadable as error:
        redaction_remake_fail(
            media_id=media.pk,
            version=version,
            reason=(
                f"The listening copy could not be made again after a redaction: {error} Put the original right (a "
                "backup holds it) and use “Try again”."
            ),
        )
        return "failed"
    except (RecordingUnreachable, DatabaseError, OSError, MemoryError) as error:
        return _remake_retry_later(media.pk, version=version, reason=str(error) or type(error).__name__)
    except Exception as error:
        redaction_remake_fail(
            media_id=media.pk,
            version=version,
            reason=f"The listening copy could not be made again after a redaction: {type(error).__name__}: {error}",
        )
        raise
    _remake_end(media.pk, version=version, status=RemakeStatus.DONE)
    logger.info("recording %s: copies made again for its redactions in %.1f s", media.pk, time.monotonic() - started)
    return "made" if made else "superseded"


@dataclasses.dataclass
class RedactionsReplayed:
    """What a restore made again for one recording, and how its copies (and original) came out."""

    media_id: uuid.UUID
    redactions: int  # redactions the restored database lacked, made again
    originals: int  # passages its original is written again silent over
    outcome: str  # "made", "failed", "retrying" ... as recording_redact says
    error: str = ""


def redactions_replay(*, held: list[RedactionHeld]) -> list[RedactionsReplayed]:
    """After a restore: make again each redaction the replaced database held and the restored one lacks, and write
    each original its audit says was silenced, and the restored file is not, again with the silence; then the copies
    and the original are made at once, so no one hears the passage from the backup's files. A recording the backup
    does not hold (or whose story is withdrawn) is left out. Redactions undone since the backup stay redacted."""
    users = get_user_model().objects
    by_recording = defaultdict(list)
    for passage in held:
        by_recording[passage.media_id].append(passage)
    replayed = []
    for media_id, passages in by_recording.items():
        if not StoryMedia.objects.filter(pk=media_id).exists() or story_withdrawn(media_id=media_id):
            continue
        with transaction.atomic():
            _lock_recording(media_id)
            rows = {(row.start, row.end): row for row in Redaction.objects.filter(media_id=media_id)}
            silenced = {span for span, row in rows.items() if row.original_redacted_at} | set(
                RedactionEvent.objects.filter(
                    media_id=media_id, action=RedactionEvent.Action.ORIGINAL, sha256_after__gt=""
                ).values_list("start", "end")
            )
            made, originals, words_restored = 0, 0, []
            for passage in passages:
                span = (passage.start, passage.end)
                silence = passage.original_too and span not in silenced
                row = rows.get(span)
                if row is None and (passage.words_redacted or silence):
                    # Words restored since the original was silenced are hidden until it is silent again, then read.
                    row = rows[span] = Redaction.objects.create(
                        media_id=media_id,
                        start=passage.start,
                        end=passage.end,
                        reason=passage.reason,
                        original_too=passage.original_too,
                        original_redacted_at=None if silence or not passage.original_too else timezone.now(),
                        created_by=users.filter(pk=passage.created_by_id).first(),
                    )
                    if not passage.words_redacted:
                        words_restored.append(row.pk)
                    _redaction_audit(action=RedactionEvent.Action.REPLAYED, redaction=row, user=row.created_by)
                    made += 1
                elif silence and not row.original_too:
                    row.original_too, row.original_redacted_at = True, None
                    row.save(update_fields=["original_too", "original_redacted_at"])
                originals += silence
            if not made and not originals:
                continue
            _playback_withdraw(media_id)  # the backup's copies may hold the passage
            _redaction_announce(media_id)
            _playback_remake(media_id, enqueue=False)  # made just below, not by a worker
        outcome = recording_redact(media_id=media_id)
        if words_restored:
            with transaction.atomic():
                for row in Redaction.objects.filter(pk__in=words_restored, original_redacted_at__isnull=False):
                    _redaction_audit(action=RedactionEvent.Action.WORDS_RESTORED, redaction=row, user=None)
                    row.delete()
                _redaction_announce(media_id)
        error = RedactionRemake.objects.filter(pk=media_id).values_list("error", flat=True).first() or ""
        replayed.append(RedactionsReplayed(media_id, made, originals, outcome, error if outcome != "made" else ""))
        logger.info(
            "recording %s: %s redaction(s) made again and %s passage(s) of its original silenced again after a "
            "restore: %s",
            media_id,
            made,
            originals,
            outcome,
        )
    return replayed


def _file_digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as made:
        while chunk := made.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _original_redact(*, media: StoryMedia, path: Path) -> None:
    """Write the preservation original again, silent over the passages redacted "in the original too" and not yet
    silenced there; its SHA-256 and size are taken again, and the audit keeps both checksums, never the words."""
    pending = list(Redaction.objects.filter(media_id=media.pk, original_too=True, original_redacted_at__isnull=True))
    if not pending:
        return
    storage = private_storage()
    made = staged_path(storage, suffix=Path(media.file.name).suffix.lower())
    try:
        try:
            original_redacted_write(source=path, destination=made, silences=[(r.start, r.end) for r in pending])
        except PlaybackFailed as error:
            raise RecordingUnreadable(str(error)) from error
        size, digest = _file_digest(made)
        now = timezone.now()
        with transaction.atomic():
            before = StoryMedia.objects.select_for_update().filter(pk=media.pk).values_list("sha256", flat=True).first()
            wanted = list(Redaction.objects.filter(pk__in=[r.pk for r in pending], original_redacted_at__isnull=True))
            if before is None or len(wanted) != len(pending):
                return  # the recording went, or another worker did it
            store_local_file(storage, path=made, name=media.file.name, content_type=media.content_type)
            # A fixity check now compares against the new checksum; the old one is in the audit.
            StoryMedia.objects.filter(pk=media.pk).update(
                sha256=digest, size=size, fixity_checked_at=now, fixity_error=""
            )
            Redaction.objects.filter(pk__in=[r.pk for r in pending]).update(original_redacted_at=now)
            for redaction in pending:
                _redaction_event(
                    action=RedactionEvent.Action.ORIGINAL,
                    redaction=redaction,
                    user=redaction.created_by,
                    media_id=media.pk,
                    sha256_before=before,
                    sha256_after=digest,
                )
        logger.info("recording %s: original written again with %s passage(s) silent", media.pk, len(pending))
    finally:
        made.unlink(missing_ok=True)


def _written_redaction_audit(*, action: str, redaction: WrittenRedaction, user) -> None:
    _redaction_event(
        action=action, redaction=redaction, user=user, story_id=redaction.story_id, block_id=redaction.block_id
    )
    logger.info(
        "story %s: characters %s-%s of block %s %s by user %s",
        redaction.story_id,
        redaction.start,
        redaction.end,
        redaction.block_id,
        action,
        user.pk if user is not None and user.is_authenticated else None,
    )


def _written_redaction_announce(story_id: int) -> None:
    transaction.on_commit(lambda: written_text_redacted.send(sender=WrittenRedaction, story_id=story_id))


@transaction.atomic
def written_redaction_create(
    *, story: StoryPage, block_id: str, start: int, end: int, reason: str, user
) -> WrittenRedaction:
    """Redact characters start to end of a paragraph or quote of a written story, with the reason; audited."""
    redaction = WrittenRedaction.objects.create(
        story=story,
        block_id=block_id,
        block_digest=text_digest(next(block_text(block) for block in story.body if block.id == block_id)),
        start=start,
        end=end,
        reason=reason.strip(),
        created_by=user if user.is_authenticated else None,
    )
    _written_redaction_audit(action=RedactionEvent.Action.REDACTED, redaction=redaction, user=user)
    _written_redaction_announce(story.pk)
    return redaction


@transaction.atomic
def written_redactions_replay(*, held: list[WrittenRedactionHeld]) -> list[int]:
    """After a restore: make again each written redaction the replaced database held and the restored one lacks, as
    it was made (its block, characters and the digest of the block's text then: if the backup's text of the block is
    another, the whole block is withheld, as after an edit). A story the backup does not hold, or withdrawn, is left
    out. Returns the stories whose text was redacted again."""
    users = get_user_model().objects
    stories = set()
    for passage in held:
        story = StoryPage.objects.filter(pk=passage.story_id, translation_key=passage.translation_key).first()
        if story is None or story.withdrawn_at is not None:
            continue
        place = {"story": story, "block_id": passage.block_id, "start": passage.start, "end": passage.end}
        if WrittenRedaction.objects.filter(**place).exists():
            continue
        with transaction.atomic():
            redaction = WrittenRedaction.objects.create(
                **place,
                block_digest=passage.block_digest,
                reason=passage.reason,
                created_by=users.filter(pk=passage.created_by_id).first(),
            )
            _written_redaction_audit(
                action=RedactionEvent.Action.REPLAYED, redaction=redaction, user=redaction.created_by
            )
            _written_redaction_announce(story.pk)
        stories.add(story.pk)
    return sorted(stories)


@transaction.atomic
def written_redaction_undo(*, redaction: WrittenRedaction, user) -> None:
    """Undo a written redaction: the passage is read and searched again; the audit keeps that it was undone."""
    _written_redaction_audit(action=RedactionEvent.Action.RESTORED, redaction=redaction, user=user)
    story_id = redaction.story_id
    redaction.delete()
    _written_redaction_announce(story_id)
