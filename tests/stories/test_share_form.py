"""The share form says what each problem is and what to do, keeps an uploaded file, and leaves choices to the storyteller."""

import datetime
import html as html_text
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from stories.generations import earliest_minor_birth_year
from stories.models import Consent, ShareUpload, StoryMedia, StoryPage

from .test_intake_support import SPEECH_WAV, fresh_rate_limits, make_invite, share_data, share_url  # noqa: F401

pytestmark = pytest.mark.django_db


def errors_of(response) -> dict[str, str]:
    """Each field's error text, keyed by the field's id, as the page shows it under the field."""
    html = response.content.decode()
    found = {}
    for field_id, text in re.findall(r'<ul class="errorlist"[^>]*id="(id_[\w-]+)_error"[^>]*>(.*?)</ul>', html, re.S):
        found[field_id] = html_text.unescape(re.sub(r"<[^>]+>", " ", text)).strip()
    return found


@pytest.mark.parametrize(
    ("overrides", "field_id", "advice"),
    [
        ({"title": ""}, "id_title", "Give your story a title"),
        ({"storytellers-0-display_name": ""}, "id_storytellers-0-display_name", "Tell us the storyteller's name"),
        ({"consent_scope": None}, "id_consent_scope", "Choose who may hear your story"),
        ({"consent": None}, "id_consent", "Tick this box to agree to the consent text"),
        ({"email": "rose-at-home"}, "id_email", "Check your e-mail address"),
        ({"text": ""}, "id_recording", "record it here, choose a recording, or write it"),
        ({"recorded_on": "yesterday-ish"}, "id_recorded_on", "Give the day the story was recorded as a date"),
        ({"storytellers-0-birth_year": "nineteen"}, "id_storytellers-0-birth_year", "Give the year of birth as four"),
    ],
    ids=["title", "name", "who-may-hear", "consent", "email", "no-story", "recorded-date", "birth-year"],
)
def test_each_error_is_shown_at_its_field_and_says_what_to_do(client, overrides, field_id, advice):
    response = client.post(share_url(make_invite()), share_data(**overrides))
    assert response.status_code == 400
    errors = errors_of(response)
    assert advice in errors.get(field_id, ""), errors
    # The field names its error for screen readers, and the page says where to look.
    tags = re.findall(rf'<(?:input|textarea|select)[^>]*id="{field_id}"[^>]*>', response.content.decode())
    assert any(f"{field_id}_error" in tag for tag in tags) or field_id == "id_consent_scope", tags
    assert not StoryPage.objects.exists()


def test_the_summary_above_the_form_names_each_field_with_its_problem(client):
    data = share_data(title="", **{"storytellers-0-display_name": ""})
    html = html_text.unescape(client.post(share_url(make_invite()), data).content.decode())
    summary = html[html.index('class="share-errors"') :]
    summary = re.sub(r"<[^>]+>", "", summary[: summary.index("</div>")])
    assert "A title for your story: Give your story a title" in summary
    assert "Storyteller, name to show with the story: Tell us the storyteller's name" in summary


def test_a_minors_guardian_error_names_the_guardian_field(client):
    data = share_data(**{"storytellers-0-display_name": "Maya", "storytellers-0-birth_year": "2015"})
    errors = errors_of(client.post(share_url(make_invite()), data))
    assert "Tell us the parent or guardian's full name" in errors["id_storytellers-0-guardian_name"]
    assert "tick this box to agree" in errors["id_storytellers-0-guardian_agrees"]


def test_no_choice_of_who_may_hear_is_made_for_the_storyteller(client):
    html = client.get(share_url(make_invite())).content.decode()
    radios = re.findall(r'<input type="radio" name="consent_scope"[^>]*>', html)
    assert len(radios) == 2
    assert not any("checked" in radio for radio in radios)


@time_machine.travel(datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC), tick=False)
def test_the_recorded_date_is_asked_and_is_today_unless_changed(client):
    invite = make_invite()
    html = client.get(share_url(invite)).content.decode()
    assert re.search(r'<input type="date" name="recorded_on" value="2026-06-15"', html)

    assert client.post(share_url(invite), share_data()).status_code == 302
    assert StoryPage.objects.get().recorded_on == datetime.date(2026, 6, 15)

    client.post(share_url(invite), share_data(title="The flood", recorded_on="2024-04-02"))
    assert StoryPage.objects.get(title="The flood").recorded_on == datetime.date(2024, 4, 2)


def test_a_recorded_date_after_today_is_refused_with_what_to_do(client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(share_url(make_invite()), share_data(recorded_on=tomorrow.isoformat()))
    assert "cannot be after today" in errors_of(response)["id_recorded_on"]


def test_the_guardian_question_follows_the_year_the_story_was_recorded(client):
    """Someone adult today but under 18 in the recording year needs a guardian, as the visibility rule would ask."""
    recorded = datetime.date(timezone.localdate().year - 5, 3, 1)
    birth_year = earliest_minor_birth_year(recorded.year)
    data = share_data(
        **{"storytellers-0-birth_year": str(birth_year), "recorded_on": recorded.isoformat(), "title": "Then"}
    )
    refused = client.post(share_url(make_invite()), data)
    assert "id_storytellers-0-guardian_name" in errors_of(refused)

    data.update({"storytellers-0-guardian_name": "Ana Lopez", "storytellers-0-guardian_agrees": "on"})
    assert client.post(share_url(make_invite()), data).status_code == 302
    assert Consent.objects.get(story__title="Then").guardian_name == "Ana Lopez"


def test_an_adult_is_not_asked_for_a_guardian(client):
    response = client.post(share_url(make_invite()), share_data(title=""))
    assert "id_storytellers-0-guardian_name" not in errors_of(response)


def test_a_file_sent_with_a_form_that_needs_correcting_is_kept_and_not_sent_again(client):
    invite = make_invite()
    recording = SimpleUploadedFile("grandma.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    refused = client.post(share_url(invite), share_data(text="", title="", recording=recording))
    assert refused.status_code == 400
    html = refused.content.decode()
    upload = ShareUpload.objects.get()
    media = upload.recording
    # The storyteller sees what is kept: its name, size and length, with a player to check it.
    assert "Your recording is uploaded" in html
    assert "grandma.wav" in html
    assert f'name="upload_id" value="{upload.id}"' in html
    assert re.search(r"\d+(\.\d)?(&nbsp;|\xa0| )KB", html)
    assert "seconds" in html
    player = reverse("stories:share-upload-recording", args=[invite.token, upload.id])
    assert f'src="{player}"' in html
    heard = client.get(player)
    assert heard.status_code == 200
    assert b"".join(heard.streaming_content if heard.streaming else [heard.content]) == SPEECH_WAV.read_bytes()

    # Corrected, without the file: the story gets the recording that was kept.
    sent = client.post(share_url(invite), share_data(text="", upload_id=str(upload.id)))
    assert sent.status_code == 302
    assert StoryPage.objects.get().recording == media
    assert StoryMedia.objects.count() == 1
    # Once it is a story's, the check-it player no longer serves it.
    assert client.get(player).status_code == 404


def test_a_kept_recording_is_another_invites_404(client):
    invite, other = make_invite(), make_invite()
    recording = SimpleUploadedFile("grandma.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    client.post(share_url(invite), share_data(title="", recording=recording))
    upload = ShareUpload.objects.get()
    assert client.get(reverse("stories:share-upload-recording", args=[other.token, upload.id])).status_code == 404
