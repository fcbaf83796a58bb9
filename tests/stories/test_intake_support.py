"""Shared makers for the intake, withdrawal, serving and security tests (no tests of its own)."""

import datetime
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from stories.factories import CommunityFactory
from stories.models import Invite, Theme, private_storage
from stories.services import invite_create

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "intake"
SPEECH_WAV = FIXTURES / "speech.wav"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with an unspent rate limit; the counters live in the cache."""
    cache.clear()
    yield
    cache.clear()


def make_invite(**fields) -> Invite:
    fields.setdefault("community", CommunityFactory(name="Riverside"))
    fields.setdefault("expires_at", timezone.now() + datetime.timedelta(days=14))
    fields.setdefault("max_uses", 5)
    return invite_create(**fields)


def share_url(invite: Invite) -> str:
    return reverse("stories:share", args=[invite.token])


def share_data(**overrides) -> dict:
    """A complete share form: one adult storyteller, written text, public consent."""
    data = {
        "title": "The garden on Elm Street",
        "text": "My grandmother planted the garden every spring.",
        "language": "en",
        "themes": [Theme.objects.get(slug="thriving-natural-world").pk],
        "consent_scope": "public",
        "consent": "on",
        "email": "",
        "storytellers-TOTAL_FORMS": "3",
        "storytellers-INITIAL_FORMS": "0",
        "storytellers-MIN_NUM_FORMS": "1",
        "storytellers-MAX_NUM_FORMS": "8",
        "storytellers-0-display_name": "Grandma Rose",
        "storytellers-0-birth_year": "1948",
        "storytellers-0-role": "storyteller",
        "storytellers-1-role": "storyteller",
        "storytellers-2-role": "storyteller",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def manage_token_from(client) -> str:
    """Follow the thank-you page, which shows the manage link once, and return the token in it."""
    page = client.get(reverse("stories:share-sent"))
    marker = "/my-story/"
    text = page.content.decode()
    start = text.index(marker) + len(marker)
    return text[start : text.index("/", start)]


def private_files() -> set[Path]:
    """Every file under the private root: recordings, copies and upload pieces."""
    root = Path(private_storage().location)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()
