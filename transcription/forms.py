"""Forms facilitators use in the admin: correct segments, run another model."""

from django import forms
from django.conf import settings

from .engine import BUNDLED_MODEL, MULTILINGUAL_BASE
from .transcript_files import TIME_FORMS_HELP, TranscriptFileError, check_size, clock, parse_transcript_file


def model_choices() -> list[tuple[str, str]]:
    choices = {
        BUNDLED_MODEL: "tiny.en: small, English only (bundled)",
        MULTILINGUAL_BASE: "base: multilingual, detects the language (needs requirements-multilingual.txt)",
    }
    choices.setdefault(settings.TRANSCRIPTION_MODEL, f"{settings.TRANSCRIPTION_MODEL} (this server's default)")
    return list(choices.items())


class RetranscribeForm(forms.Form):
    model_name = forms.ChoiceField(label="Model", choices=model_choices)
    supersede_corrections = forms.BooleanField(
        required=False,
        label="Replace corrected text",
        help_text="Leave unticked to keep a facilitator's corrections as the transcript people read.",
    )


class SegmentCorrectionForm(forms.Form):
    """One form field per segment, named by the segment's id; times are shown, never edited."""

    def __init__(self, *args, segments, **kwargs):
        super().__init__(*args, **kwargs)
        self.segments = list(segments)
        for segment in self.segments:
            self.fields[f"segment-{segment.pk}"] = forms.CharField(
                initial=segment.text, widget=forms.Textarea(attrs={"rows": 2}), required=True, strip=True
            )

    def rows(self):
        return [(segment, self[f"segment-{segment.pk}"]) for segment in self.segments]

    def corrected_texts(self) -> dict[int, str]:
        return {segment.pk: self.cleaned_data[f"segment-{segment.pk}"] for segment in self.segments}


class TranscriptUploadForm(forms.Form):
    """A transcript people made: a file, or its text pasted. What was pasted stays on the form after an error."""

    file = forms.FileField(
        required=False,
        label="Transcript file",
        help_text=TIME_FORMS_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,.srt,.txt,text/vtt,text/plain"}),
    )
    pasted = forms.CharField(
        required=False,
        label="Or paste the transcript",
        widget=forms.Textarea(attrs={"rows": 8}),
        strip=False,
    )
    file_name = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, duration: float | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.duration = duration
        self.parsed = None

    def clean(self):
        cleaned = super().clean()
        upload, pasted = cleaned.get("file"), cleaned.get("pasted") or ""
        if upload and pasted.strip():
            raise forms.ValidationError("Choose a file or paste the text, not both.")
        if not upload and not pasted.strip():
            raise forms.ValidationError("Choose a transcript file, or paste the transcript's text.")
        if upload:
            name, field = upload.name, "file"
        else:
            name, field = cleaned.get("file_name") or "", "pasted"
        try:
            if upload:
                check_size(upload.size)  # refused by its size, before it is read
                data = upload.read()
            else:
                data = pasted.encode("utf-8")
            self.parsed = parse_transcript_file(data, file_name=name, duration=self.duration)
        except TranscriptFileError as error:
            self.add_error(field, f"{name}: {error}" if name else str(error))
            return cleaned
        cleaned["file_name"] = name
        # The preview carries the text on, so replacing needs no second upload.
        cleaned["text"] = data.decode("utf-8-sig")
        return cleaned


class RedactionForm(forms.Form):
    """A passage to redact: chosen segments of the transcript shown, or a start and end time; and why."""

    segments = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Segments",
        help_text="Tick the segments to redact, or give a start and end time instead.",
    )
    start = forms.FloatField(required=False, min_value=0, label="Start (seconds)")
    end = forms.FloatField(required=False, min_value=0, label="End (seconds)")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="Why it is redacted, for the audit. Do not repeat the redacted words.",
        error_messages={"required": "Give a reason: the audit keeps it."},
    )
    original_too = forms.BooleanField(
        required=False,
        label="Redact the original too",
        help_text="The preservation original itself is written again with silence over the passage, and its "
        "checksum changes. This cannot be undone: the sound is gone for good, and only the words can be restored. "
        "Left unticked, the original is kept unchanged, for facilitators only.",
    )

    def __init__(self, *args, segments=(), duration: float | None = None, original_refusal: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.original_refusal = original_refusal
        self.segment_times = {str(segment.pk): (segment.start, segment.end) for segment in segments}
        self.fields["segments"].choices = [
            (str(segment.pk), f"{clock(segment.start)}–{clock(segment.end)}") for segment in segments
        ]
        self.duration = duration

    def clean_original_too(self):
        chosen = self.cleaned_data["original_too"]
        if chosen and self.original_refusal:
            raise forms.ValidationError(self.original_refusal)
        return chosen

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("segments") or []
        start, end = cleaned.get("start"), cleaned.get("end")
        if chosen:
            if start is not None or end is not None:
                raise forms.ValidationError("Choose segments or give a start and end time, not both.")
            spans = [self.segment_times[pk] for pk in chosen]
            start, end = min(s for s, _ in spans), max(e for _, e in spans)
        elif start is None and end is None:
            if "start" not in self.errors and "end" not in self.errors:
                raise forms.ValidationError("Choose the segments to redact, or give a start and end time.")
            return cleaned
        elif start is None:
            self.add_error("start", "Give the start as well as the end.")
            return cleaned
        elif end is None:
            self.add_error("end", "Give the end as well as the start.")
            return cleaned
        if end <= start:
            self.add_error("end", "The end must come after the start.")
        elif self.duration and start >= self.duration:
            self.add_error("start", f"The recording is only {clock(self.duration)} long.")
        elif self.duration and end > self.duration and not chosen:
            self.add_error("end", f"The recording ends at {clock(self.duration)}.")
        cleaned["start"], cleaned["end"] = start, min(end, self.duration) if self.duration else end
        return cleaned


class WrittenRedactionForm(forms.Form):
    """A passage of a written story to redact: a paragraph or quote, then its words or a character range; and why."""

    block = forms.ChoiceField(label="Paragraph or quote")
    passage = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Words to redact",
        help_text="Copy them exactly from the chosen paragraph (the first place they appear is redacted); "
        "or give the first and last character instead. They are not kept.",
    )
    start = forms.IntegerField(required=False, min_value=0, label="From character (counting from 0)")
    end = forms.IntegerField(required=False, min_value=1, label="To character (not included)")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="Why it is redacted, for the audit. Do not repeat the redacted words.",
        error_messages={"required": "Give a reason: the audit keeps it."},
    )

    def __init__(self, *args, texts: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.texts = texts
        self.fields["block"].choices = [(block_id, text[:80]) for block_id, text in texts.items()]

    def clean(self):
        cleaned = super().clean()
        text = self.texts.get(cleaned.get("block"))
        if text is None:
            return cleaned
        passage, start, end = cleaned.get("passage", ""), cleaned.get("start"), cleaned.get("end")
        if passage.strip():
            found = text.find(passage.strip())
            if found < 0:
                self.add_error("passage", "These words are not in the chosen paragraph: copy them exactly.")
                return cleaned
            start, end = found, found + len(passage.strip())
        elif start is None or end is None:
            if "start" not in self.errors and "end" not in self.errors:
                raise forms.ValidationError("Give the words to redact, or the first and last character.")
            return cleaned
        elif end <= start:
            self.add_error("end", "The end must come after the start.")
            return cleaned
        elif end > len(text):
            self.add_error("end", f"The paragraph has only {len(text)} characters.")
            return cleaned
        cleaned["start"], cleaned["end"], cleaned["passage"] = start, end, ""
        return cleaned
