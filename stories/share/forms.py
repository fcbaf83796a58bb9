"""The share form a storyteller fills in on a phone, and the forms on their own story page."""

from django import forms
from django.template.loader import render_to_string
from django.utils import timezone

from ..generations import could_be_minor
from ..models import Consent, StoryParticipant, Theme
from ..services import StorytellerEntry
from ..validators import validate_birth_year

# The languages people pick most often here; a facilitator can set any BCP 47 code afterwards.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español (Spanish)"),
    ("zh", "中文 (Chinese)"),
    ("vi", "Tiếng Việt (Vietnamese)"),
    ("tl", "Tagalog"),
    ("ar", "العربية (Arabic)"),
    ("fr", "Français (French)"),
    ("ht", "Kreyòl ayisyen (Haitian Creole)"),
    ("ko", "한국어 (Korean)"),
    ("ru", "Русский (Russian)"),
    ("nv", "Diné bizaad (Navajo)"),
]


def consent_wording(*, community_name: str) -> str:
    """The consent text in full; the same words are shown on the form and kept with the submission."""
    return render_to_string("stories/share/consent_text.txt", {"community_name": community_name}).strip()


class ShareForm(forms.Form):
    title = forms.CharField(max_length=200, label="A title for your story")
    recording = forms.FileField(
        required=False,
        label="Choose a recording (sound or video)",
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*,video/*"}),
    )
    upload_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        required=False,
        max_length=50_000,
        label="Or write your story here",
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    language = forms.ChoiceField(choices=LANGUAGES, initial="en", label="The language of the story")
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="What is the story about? Tick any that fit.",
    )
    consent_scope = forms.ChoiceField(
        choices=[
            (Consent.Scope.PUBLIC, "Anyone may listen to it in the public archive"),
            (Consent.Scope.RESEARCH, "Only the facilitators and researchers may use it; keep it off the public site"),
        ],
        initial=Consent.Scope.PUBLIC,
        widget=forms.RadioSelect,
        label="Who may hear your story?",
    )
    consent = forms.BooleanField(label="I have read the consent text above, and every storyteller agrees to it.")
    email = forms.EmailField(
        required=False,
        label="Your e-mail address (optional)",
        help_text="Only to send you the private link to your story. We never show it to anyone.",
    )

    def clean(self):
        cleaned = super().clean()
        has_recording = bool(cleaned.get("recording") or cleaned.get("upload_id"))
        if not has_recording and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Please add a recording, or write your story in the box.")
        return cleaned


class StorytellerForm(forms.Form):
    display_name = forms.CharField(max_length=120, label="Name to show with the story")
    birth_year = forms.IntegerField(
        required=False,
        validators=[validate_birth_year],
        label="Year of birth (optional, never shown)",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    role = forms.ChoiceField(
        choices=StoryParticipant.Role.choices, initial=StoryParticipant.Role.STORYTELLER, label="Their part"
    )
    under_18 = forms.BooleanField(required=False, label="This person is under 18")
    guardian_name = forms.CharField(max_length=200, required=False, label="Parent or guardian's full name")
    guardian_agrees = forms.BooleanField(
        required=False, label="I am their parent or guardian, I have read the consent text, and I agree."
    )

    def clean(self):
        cleaned = super().clean()
        minor = cleaned.get("under_18") or could_be_minor(cleaned.get("birth_year"), timezone.localdate().year)
        if minor:
            if not (cleaned.get("guardian_name") or "").strip():
                self.add_error("guardian_name", "Someone under 18 needs a parent or guardian to agree. Their name:")
            if not cleaned.get("guardian_agrees"):
                self.add_error("guardian_agrees", "The parent or guardian needs to tick this box.")
        return cleaned

    def entry(self) -> StorytellerEntry:
        cleaned = self.cleaned_data
        return StorytellerEntry(
            display_name=cleaned["display_name"].strip(),
            role=cleaned["role"],
            birth_year=cleaned.get("birth_year"),
            guardian_name=(cleaned.get("guardian_name") or "").strip(),
            guardian_agreed=bool(cleaned.get("guardian_agrees")),
        )


StorytellerFormSet = forms.formset_factory(StorytellerForm, extra=2, min_num=1, validate_min=True, max_num=8)


class CorrectionForm(forms.Form):
    note = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="What should we correct?",
        help_text="For example a name spelled wrong, or words the transcript got wrong.",
    )


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, take my story back. I understand the recording and its text will be deleted for good."
    )
