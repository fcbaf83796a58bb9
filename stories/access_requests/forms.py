from django import forms
from django.utils import timezone


class AccessRequestForm(forms.Form):
    name = forms.CharField(max_length=200, label="Your name", error_messages={"required": "Please give your name."})
    email = forms.EmailField(
        label="Your e-mail address",
        help_text="The private link is sent here if the request is approved.",
        error_messages={
            "required": "Please give an e-mail address: the answer is sent there.",
            "invalid": "Please check the e-mail address: it should look like name@example.org.",
        },
    )
    purpose = forms.CharField(
        max_length=2000,
        min_length=10,
        label="Why you would like to hear this story",
        help_text="For example: family history, a research project, a community event. The facilitators read it.",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Please say why you would like to hear the story: the facilitators decide from it.",
            "min_length": "Please say a little more about why you would like to hear the story (10 characters or "
            "more).",
            "max_length": "Please keep it to 2,000 characters (it has %(show_value)d).",
        },
    )


class ApprovalForm(forms.Form):
    expires_on = forms.DateField(
        label="Link works until",
        help_text="The last day the private link plays the story.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Choose the last day the link works.", "invalid": "Enter a date: YYYY-MM-DD."},
    )

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on < timezone.localdate():
            raise forms.ValidationError("The last day cannot be in the past.")
        return expires_on
