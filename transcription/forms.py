"""Forms facilitators use in the admin: correct segments, run another model."""

from django import forms
from django.conf import settings

from .engine import BUNDLED_MODEL, MULTILINGUAL_BASE


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
