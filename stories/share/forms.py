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
    title = forms.CharField(
        max_length=200,
        label="A title for your story",
        error_messages={
            "required": "Give your story a title: a few words people will see first.",
            "max_length": "Shorten the title to %(limit_value)d characters or fewer (it has %(show_value)d).",
        },
    )
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
    recorded_on = forms.DateField(
        required=False,
        initial=timezone.localdate,
        label="When was the story recorded?",
        help_text="Today, unless you recorded it on another day.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the day the story was recorded as a date, for example 2026-05-01."},
    )
    language = forms.ChoiceField(
        choices=LANGUAGES,
        initial="en",
        label="The language of the story",
        error_messages={"required": "Choose the language the story is told in."},
    )
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
        # Nothing chosen for the storyteller: who may hear the story is theirs to decide.
        widget=forms.RadioSelect,
        label="Who may hear your story?",
        error_messages={"required": "Choose who may hear your story: anyone, or only the facilitators."},
    )
    consent = forms.BooleanField(
        label="I have read the consent text above, and every storyteller agrees to it.",
        error_messages={"required": "Tick this box to agree to the consent text (ask the facilitator if unsure)."},
    )
    email = forms.EmailField(
        required=False,
        label="Your e-mail address (optional)",
        help_text="Only to send you the private link to your story. We never show it to anyone.",
        error_messages={"invalid": "Check your e-mail address (like name@example.org), or leave the box empty."},
    )

    def clean_recorded_on(self):
        recorded_on = self.cleaned_data.get("recorded_on") or timezone.localdate()
        if recorded_on > timezone.localdate():
            raise forms.ValidationError("The day the story was recorded cannot be after today: choose today or before.")
        return recorded_on

    def clean(self):
        cleaned = super().clean()
        has_recording = bool(cleaned.get("recording") or cleaned.get("upload_id"))
        if not has_recording and not (cleaned.get("text") or "").strip() and "text" not in self.errors:
            self.add_error(
                "recording", "Add your story: record it here, choose a recording, or write it in the box below."
            )
        return cleaned


class StorytellerForm(forms.Form):
    display_name = forms.CharField(
        max_length=120,
        label="Name to show with the story",
        error_messages={
            "required": "Tell us the storyteller's name, as it should be shown with the story.",
            "max_length": "Shorten the name to %(limit_value)d characters or fewer (it has %(show_value)d).",
        },
    )
    birth_year = forms.IntegerField(
        required=False,
        validators=[validate_birth_year],
        label="Year of birth (optional, never shown)",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Give the year of birth as four digits, like 1956, or leave it empty."},
    )
    role = forms.ChoiceField(
        choices=StoryParticipant.Role.choices, initial=StoryParticipant.Role.STORYTELLER, label="Their part"
    )
    under_18 = forms.BooleanField(required=False, label="This person is under 18")
    guardian_name = forms.CharField(max_length=200, required=False, label="Parent or guardian's full name")
    guardian_agrees = forms.BooleanField(
        required=False, label="I am their parent or guardian, I have read the consent text, and I agree."
    )

    def __init__(self, *args, recorded_year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The visibility rule asks whether someone could be a minor in the year the story was recorded.
        self.recorded_year = recorded_year or timezone.localdate().year

    def clean(self):
        cleaned = super().clean()
        minor = cleaned.get("under_18") or could_be_minor(cleaned.get("birth_year"), self.recorded_year)
        if minor:
            if not (cleaned.get("guardian_name") or "").strip():
                self.add_error(
                    "guardian_name",
                    "Tell us the parent or guardian's full name: someone under 18 needs a parent or guardian to agree.",
                )
            if not cleaned.get("guardian_agrees"):
                self.add_error("guardian_agrees", "The parent or guardian needs to tick this box to agree.")
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
