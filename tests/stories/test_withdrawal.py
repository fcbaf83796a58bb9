"""Taking a story back: from the storyteller's private link or recorded by a facilitator, at once and for good."""

import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import Revision, WorkflowState

from stories.models import Consent, StoryMedia, StoryPage, Withdrawal, private_storage
from stories.services import story_withdraw
from stories.signals import story_visibility_changed, story_withdrawn

from .test_intake_support import (  # noqa: F401
    SPEECH_WAV,
    fresh_rate_limits,
    make_invite,
    manage_token_from,
    share_data,
    share_url,
)

MARKER = "Zanzibarquux"


def shared_and_published(client, facilitator, **overrides):
    """A story shared through the form with a recording, then approved by a facilitator; returns (story, token)."""
    upload = SimpleUploadedFile("grandma.wav", SPEECH_WAV.read_bytes(), content_type="audio/wav")
    data = share_data(title=f"{MARKER} garden", text=f"{MARKER} in the written story", recording=upload)
    data.update(overrides)
    client.post(share_url(make_invite()), data)
    token = manage_token_from(client)
    story = StoryPage.objects.get(title=f"{MARKER} garden")
    state = WorkflowState.objects.for_instance(story).get()
    state.current_task_state.task.specific.on_action(state.current_task_state, facilitator, "approve")
    story.refresh_from_db()
    media = story.recording
    folder = Path(private_storage().path(media.file.name)).parent
    (folder / "access.mp4").write_bytes(b"access copy")
    (folder / "poster.jpg").write_bytes(b"poster")
    StoryMedia.objects.filter(pk=media.pk).update(access_copy=f"{Path(media.file.name).parent}/access.mp4")
    # Where callbacks run on commit, the shipped model has transcribed the recording already.
    transcript = media.transcripts.filter(is_current=True).first() or media.transcripts.create(
        model_name="tiny.en", status="done", is_current=True
    )
    transcript.segments.create(index=transcript.segments.count(), start=0, end=2, text=f"{MARKER} said my grandmother")
    assert story.is_visible_to_public()
    return story, token


class Heard:
    def __init__(self, signal):
        self.calls = []
        signal.connect(self.receive, weak=False)
        self.signal = signal

    def receive(self, sender, signal, **kwargs):
        self.calls.append(kwargs)

    def stop(self):
        self.signal.disconnect(self.receive)


def test_withdrawing_through_the_manage_link_removes_the_story_everywhere(
    client, facilitator, django_capture_on_commit_callbacks
):
    story, token = shared_and_published(client, facilitator)
    media = story.recording
    media_id = media.id
    folder = Path(private_storage().path(media.file.name)).parent
    public_url = story.url
    recording_url = reverse("stories:recording", args=[media_id, "access"])
    assert client.get(public_url).status_code == 200
    assert client.get(recording_url).status_code == 200
    visibility, withdrawn = Heard(story_visibility_changed), Heard(story_withdrawn)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw", "confirm": "on"})
    finally:
        visibility.stop()
        withdrawn.stop()
    assert page.status_code == 302

    story.refresh_from_db()
    assert not story.live
    assert story.withdrawn_at is not None
    assert MARKER not in story.title and MARKER not in str(story.body) and story.summary == ""
    assert not Revision.page_revisions.filter(object_id=str(story.pk)).exists()
    assert all(consent.withdrawn_at for consent in Consent.objects.filter(story=story))
    assert not StoryMedia.objects.filter(pk=media_id).exists()
    assert not folder.exists()
    from transcription.models import Segment, Transcript

    assert not Transcript.objects.filter(media_id=media_id).exists()
    assert not Segment.objects.filter(text__contains=MARKER).exists()
    assert visibility.calls and all(call == {"story_id": story.pk} for call in visibility.calls)
    assert withdrawn.calls == [{"story_id": story.pk, "media_id": media_id}]

    assert client.get(public_url).status_code == 404
    assert client.get(recording_url).status_code == 404
    assert client.get(f"/api/stories/{story.pk}").status_code == 404
    assert MARKER not in client.get("/api/stories").content.decode()

    audit = Withdrawal.objects.get()
    assert audit.requested_by == Withdrawal.RequestedBy.STORYTELLER
    kinds = {entry["kind"] for entry in audit.removed}
    assert {"publication", "consent", "recording", "access copy", "transcript", "title and written text"} <= kinds
    assert MARKER not in str(audit.removed) and MARKER not in str(audit)

    after = client.get(reverse("stories:my-story", args=[token])).content.decode()
    assert "Your story has been taken back" in after
    assert MARKER not in after
    assert client.get(reverse("stories:my-story-recording", args=[token])).status_code == 404


def test_withdrawal_deletes_the_pictures_only_its_story_shows(client, facilitator, django_capture_on_commit_callbacks):
    """A story's cover and the pictures in its text are served from public addresses: withdrawal deletes them, with
    their resized copies, unless another story (as its cover or in its text) or a community shows them too; those
    stay at new addresses."""
    from wagtail.images import get_image_model
    from wagtail.models import ModelLogEntry
    from wagtail_factories import ImageFactory

    from stories.factories import public_story

    from .test_pictures import picture_files, shown

    story, token = shared_and_published(client, facilitator)
    cover, in_text, in_draft = (ImageFactory(title=f"{MARKER} {place}") for place in ("cover", "text", "draft"))
    shared_cover, community_picture = ImageFactory(title="The harbour"), ImageFactory(title="The community hall")
    in_other_text = ImageFactory(title="The boats")
    other = public_story(title="The harbour at dawn", cover_image=shared_cover)
    other.body = shown(in_other_text)
    other.save_revision().publish()
    story.community.image = community_picture
    story.community.save()
    for picture in (cover, in_text, in_draft, shared_cover):
        ModelLogEntry.objects.log_action(picture, "wagtail.create")

    story.cover_image = cover
    story.body = shown(in_text, shared_cover, community_picture, in_other_text)
    story.save_revision().publish()
    story.cover_image = in_draft
    story.save_revision()  # a draft, never published
    page = client.get(story.url).content.decode()
    for picture in (cover, in_text):
        # Control: the pictures were on the public page, at addresses anyone could keep.
        assert picture.renditions.exists() and all(path.is_file() for path in picture_files(picture))
        assert any(rendition.url in page for rendition in picture.renditions.all())
    own = {picture.pk: picture_files(picture) for picture in (cover, in_text, in_draft)}
    kept = {picture.pk: picture_files(picture) for picture in (shared_cover, community_picture, in_other_text)}

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw", "confirm": "on"})

    images = get_image_model().objects
    assert not images.filter(pk__in=own).exists()
    assert not [path for paths in own.values() for path in paths if path.exists()]
    assert set(images.filter(pk__in=kept).values_list("pk", flat=True)) == set(kept)
    assert all(Path(image.file.path).is_file() for image in images.filter(pk__in=kept))
    assert not [path for paths in kept.values() for path in paths if path.exists()]
    page = client.get(other.url).content.decode()
    shared_cover.refresh_from_db()
    assert shared_cover.renditions.exists() and all(r.url in page for r in shared_cover.renditions.all())
    assert {"kind": "pictures", "count": 3} in Withdrawal.objects.get().removed
    assert not ModelLogEntry.objects.filter(label__contains=MARKER).exists()


def test_withdrawing_twice_changes_nothing_more(client, facilitator):
    story, _token = shared_and_published(client, facilitator)
    first = story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    second = story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    assert first.pk == second.pk
    assert Withdrawal.objects.count() == 1
    story.refresh_from_db()
    assert not story.live and story.withdrawn_at is not None


def test_a_facilitator_records_a_withdrawal_for_a_participant(client, facilitator):
    story, _token = shared_and_published(client, facilitator)
    person = story.participants.get().person
    audit = story_withdraw(
        story=story, requested_by=Withdrawal.RequestedBy.FACILITATOR, user=facilitator, participant=person
    )
    assert audit.recorded_by == facilitator
    assert audit.participant_role == "storyteller"
    assert not type(person).objects.filter(pk=person.pk).exists()
    assert not StoryPage.objects.visible_to_public().filter(pk=story.pk).exists()


def test_withdrawal_needs_the_confirming_tick(client, facilitator):
    story, token = shared_and_published(client, facilitator)
    client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw"})
    story.refresh_from_db()
    assert story.withdrawn_at is None and story.live


def test_a_withdrawn_story_stays_out_even_if_someone_publishes_it_again(client, facilitator):
    story, _token = shared_and_published(client, facilitator)
    story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    story.refresh_from_db()
    story.save_revision(user=facilitator).publish(user=facilitator)
    story.refresh_from_db()
    assert story.live
    assert not story.is_visible_to_public()
    assert client.get(story.url).status_code == 404


def test_a_facilitator_records_a_withdrawal_in_the_admin(client, facilitator):
    story, _token = shared_and_published(client, facilitator)
    person = story.participants.get().person
    admin = client_for(facilitator)
    url = reverse("stories_record_withdrawal", args=[story.pk])
    form = admin.get(url)
    assert form.status_code == 200
    assert person.display_name in form.content.decode()
    response = admin.post(url, {"participant": person.pk, "confirm": "on"})
    assert response.status_code == 302
    audit = Withdrawal.objects.get()
    assert audit.requested_by == Withdrawal.RequestedBy.FACILITATOR
    assert (audit.recorded_by, audit.participant_role) == (facilitator, "storyteller")
    assert person.display_name not in str(audit) + str(audit.removed)
    story.refresh_from_db()
    assert story.withdrawn_at is not None and not story.live


def test_someone_without_edit_rights_cannot_record_a_withdrawal(client, facilitator, django_user_model):
    story, _token = shared_and_published(client, facilitator)
    from django.contrib.auth.models import Permission

    outsider = django_user_model.objects.create_user("outsider", "o@example.org", "a-long-passphrase")
    outsider.user_permissions.add(Permission.objects.get(codename="access_admin"))
    response = client_for(outsider).post(
        reverse("stories_record_withdrawal", args=[story.pk]),
        {"participant": story.participants.get().person.pk, "confirm": "on"},
    )
    assert response.status_code in (302, 403, 404)
    story.refresh_from_db()
    assert story.withdrawn_at is None


def client_for(user):
    from django.test import Client

    other = Client()
    other.force_login(user)
    return other


def test_an_administrator_makes_an_invite_link_in_the_admin(admin_client, admin_user):
    from stories.factories import CommunityFactory
    from stories.models import Invite

    community = CommunityFactory(name="Hillside")
    response = admin_client.post(
        reverse("wagtailsnippets_stories_invite:add"),
        {"community": community.pk, "label": "Hillside dialogue", "expires_at": "2099-01-01 10:00", "max_uses": "12"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    invite = Invite.objects.get()
    assert len(invite.token) >= 32
    assert invite.created_by == admin_user
    listing = admin_client.get(reverse("wagtailsnippets_stories_invite:list")).content.decode()
    assert f"/share/{invite.token}/" in listing


def test_a_withdrawal_during_a_running_transcription_leaves_no_transcript(
    client, facilitator, monkeypatch, django_capture_on_commit_callbacks
):
    """The worker is mid-way through Whisper when the storyteller withdraws: nothing it heard may be stored."""
    from transcription import services as transcription_services
    from transcription.engine import SpokenSegment, Transcription
    from transcription.models import Segment, Transcript

    story, token = shared_and_published(client, facilitator)
    media_id = story.recording_id
    folder = Path(private_storage().path(story.recording.file.name)).parent
    queued = Transcript.objects.create(media_id=media_id, model_name="race", status="queued")

    class WithdrawnMidway:
        name = "fake"
        model_name = "race"

        def transcribe(self, path, *, language=None, on_progress=None):
            with django_capture_on_commit_callbacks(execute=True):
                page = client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw", "confirm": "on"})
            assert page.status_code == 302
            return Transcription("en", 1.0, 2.0, [SpokenSegment(0.0, 2.0, f"{MARKER} heard after the withdrawal")])

    monkeypatch.setattr(transcription_services, "engine_for", lambda model_name=None: WithdrawnMidway())
    outcome = transcription_services.transcript_run(transcript_id=queued.pk)
    assert outcome in ("gone", "withdrawn")
    assert not Segment.objects.filter(text__contains=MARKER).exists()
    assert not Transcript.objects.filter(media_id=media_id).exists()
    assert not StoryMedia.objects.filter(pk=media_id).exists()
    assert not folder.exists() or not any(folder.iterdir())


# Withdrawal forgets ---------------------------------------------------------------------------------------------------

PROMISE = "We keep only a note that a story was withdrawn and when, with none of its words."
# Made-up words found nowhere else in the archive, one for each kind of thing a withdrawal must forget; MARKER is in
# the title, the written text and the transcript.
TITLE_WORD, NAME, MINOR, GUARDIAN, EMAIL = MARKER, "Brelliandra", "Tovimerquel", "Gastrolvane", "yx7@qw.example"


def shared_with_people(client, facilitator):
    """A published shared story told by an adult and a minor (with a guardian), who gave an e-mail address; the
    adult also tells another story."""
    story, token = shared_and_published(
        client,
        facilitator,
        email=EMAIL,
        **{
            "storytellers-0-display_name": f"{NAME} Rose",
            "storytellers-1-display_name": MINOR,
            "storytellers-1-birth_year": "2012",
            "storytellers-1-guardian_name": f"{GUARDIAN} Lopez",
            "storytellers-1-guardian_agrees": "on",
        },
    )
    adult = story.participants.get(person__display_name=f"{NAME} Rose").person
    other = StoryPage.objects.exclude(pk=story.pk).filter(title="A story told twice").first()
    if other is None:
        from stories.factories import StoryPageFactory

        other = StoryPageFactory(title="A story told twice")
    other.participants.create(person=adult, role="storyteller")
    Consent.objects.create(story=other, person=adult, given_by=adult.display_name, method=Consent.Method.VERBAL)
    return story, token, adult, other


def database_text() -> str:
    """Every value in every table of the database, as text."""
    from django.db import connection

    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(values)


def test_withdrawal_keeps_only_what_the_consent_text_promises(client, facilitator, django_capture_on_commit_callbacks):
    from stories.models import Person, StorySubmission
    from stories.share.forms import consent_wording

    story, token, adult, other = shared_with_people(client, facilitator)
    wording = StorySubmission.objects.get(story=story).consent_wording
    assert PROMISE in wording and PROMISE in consent_wording(community_name=story.community.name)
    before = database_text()
    for word in (TITLE_WORD, NAME, MINOR, GUARDIAN, EMAIL):
        assert word in before, f"control: {word} is in the database before the withdrawal"
    people_before = Person.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw", "confirm": "on"})

    after = database_text()
    for word in (TITLE_WORD, MINOR, GUARDIAN, EMAIL):
        assert word not in after, f"{word} is still in the database"
    # The adult's name stays only because another story names them, and only with that story.
    assert list(Person.objects.filter(display_name__contains=NAME)) == [adult]
    assert not Consent.objects.filter(given_by__contains=NAME).exclude(story=other).exists()
    assert not Person.objects.filter(display_name=MINOR).exists()
    assert Person.objects.count() == people_before - 1
    assert other.participants.get().person == adult and Consent.objects.get(story=other).person == adult

    # What is left of the story: that it was withdrawn, and when.
    consents = list(Consent.objects.filter(story=story))
    assert len(consents) == 2
    for consent in consents:
        assert consent.withdrawn_at is not None
        assert (consent.person, consent.given_by, consent.guardian_name, consent.guardian_consented_on) == (
            None,
            "",
            "",
            None,
        )
    assert not story.participants.exists()
    assert StorySubmission.objects.get(story=story).email == ""
    assert MINOR not in str(Withdrawal.objects.get().removed)
    page = client.get(reverse("stories:my-story", args=[token])).content.decode()
    assert "withdrawn" in page and TITLE_WORD not in page


@pytest.mark.django_db(transaction=True)
def test_withdrawn_words_leave_the_sqlite_file(client, facilitator):
    """FTS5 deletes lazily and SQLite leaves freed bytes in place: the file itself must lose the words.

    Committed for real, as in use: the file holds what was committed."""
    from django.db import connection

    from search.services import story_index_refresh

    if connection.vendor != "sqlite":
        pytest.skip("the file's bytes are SQLite's; PostgreSQL's rows go with VACUUM's next pass")
    story, token, _adult, _other = shared_with_people(client, facilitator)
    assert story_index_refresh(story_id=story.pk) == "indexed"
    found = client.get("/api/search", {"q": TITLE_WORD}).json()
    assert found["count"] == 1, "control: the story is in the search index"
    for word in (TITLE_WORD, NAME, MINOR):
        assert word.lower().encode() in database_bytes().lower(), f"control: {word} is in the file before"

    client.post(reverse("stories:my-story", args=[token]), {"action": "withdraw", "confirm": "on"})

    assert client.get("/api/search", {"q": TITLE_WORD}).json()["count"] == 0
    stored = database_bytes().lower()
    for word in (TITLE_WORD, MINOR, GUARDIAN, EMAIL):
        assert word.lower().encode() not in stored, f"{word} is still in the database file"


def database_bytes() -> bytes:
    """The SQLite database as it lies on disk (the write-ahead log too), or the in-memory test database's pages.

    Read by another process: closing any descriptor of the file releases every POSIX lock this process holds on it,
    SQLite's included, and the next connection to close then believes it is the last, deletes the write-ahead log
    under this process's open connections, and leaves them reading a stale copy."""
    from django.db import connection

    connection.ensure_connection()
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        return connection.connection.serialize()
    files = [name] + [wal for wal in (f"{name}-wal",) if Path(wal).exists()]
    return subprocess.run(["cat", *files], capture_output=True, check=True).stdout


def test_the_admin_still_shows_a_withdrawn_story_and_its_audit(client, facilitator, admin_client):
    story, token, _adult, _other = shared_with_people(client, facilitator)
    story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    audit = Withdrawal.objects.get()
    consent = Consent.objects.filter(story=story).first()
    pages = [
        reverse("wagtailsnippets_stories_withdrawal:list"),
        reverse("wagtailsnippets_stories_withdrawal:inspect", args=[audit.pk]),
        reverse("wagtailsnippets_stories_consent:list"),
        reverse("wagtailsnippets_stories_consent:edit", args=[consent.pk]),
        reverse("wagtailadmin_pages:edit", args=[story.pk]),
        reverse("wagtailadmin_pages:history", args=[story.pk]),
        reverse("wagtailadmin_explore", args=[story.get_parent().pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for word in (MARKER, MINOR, GUARDIAN, EMAIL):
            assert word not in text, (url, word)
    assert "Withdrawn consent" in admin_client.get(reverse("wagtailsnippets_stories_consent:list")).content.decode()


def test_an_administrator_cannot_edit_add_or_delete_a_withdrawal_audit_entry(admin_client):
    """The audit is read-only for everyone, administrators included: a POST to its edit, add or delete address is
    refused and the entry stays as the withdrawal service wrote it."""
    audit = Withdrawal.objects.create(story_id_removed=77, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    forged = {"story_id_removed": 5, "requested_by": "facilitator", "removed": "[]"}
    for url in (
        reverse("wagtailsnippets_stories_withdrawal:edit", args=[audit.pk]),
        reverse("wagtailsnippets_stories_withdrawal:delete", args=[audit.pk]),
        reverse("wagtailsnippets_stories_withdrawal:add"),
    ):
        assert admin_client.get(url).status_code in (302, 403), url
        assert admin_client.post(url, forged).status_code in (302, 403), url
    assert list(Withdrawal.objects.values_list("pk", "story_id_removed", "requested_by")) == [
        (audit.pk, 77, "storyteller")
    ]
    listing = admin_client.get(reverse("wagtailsnippets_stories_withdrawal:list"))
    assert listing.status_code == 200
    inspect = admin_client.get(reverse("wagtailsnippets_stories_withdrawal:inspect", args=[audit.pk]))
    assert inspect.status_code == 200


def test_the_invite_list_shows_the_full_share_link_at_the_served_address_with_a_copy_button(admin_client):
    from stories.models import Invite

    invite = make_invite()
    closed = make_invite(community=invite.community)
    Invite.objects.filter(pk=closed.pk).update(revoked=True)
    listing = admin_client.get(reverse("wagtailsnippets_stories_invite:list"), HTTP_HOST="127.0.0.1:9000")
    html = listing.content.decode()
    assert f'value="http://127.0.0.1:9000/share/{invite.token}/"' in html
    assert 'data-action="w-clipboard#copy">Copy link</button>' in html
    assert f"/share/{closed.token}/" not in html and "Closed" in html
    assert Invite.objects.count() == 2


def test_a_withdrawn_story_leaves_no_draft_in_the_admin_list(admin_client):
    """The admin's page list calls the emptied shell withdrawn, with no draft to view or publish."""
    from stories.factories import public_story

    story = public_story(title=f"{MARKER} draft")
    story.save_revision().publish()
    story.save_revision()  # an unpublished draft on top of the live page
    story_withdraw(story=story, requested_by=Withdrawal.RequestedBy.STORYTELLER)
    story.refresh_from_db()
    assert not story.has_unpublished_changes and story.latest_revision is None
    listing = admin_client.get(reverse("wagtailadmin_explore", args=[story.get_parent().pk])).content.decode()
    assert reverse("wagtailadmin_pages:view_draft", args=[story.pk]) not in listing
    assert re.search(r">\s*withdrawn\s*<", listing)
    assert not re.search(r">\s*draft\s*<", listing)
    assert MARKER not in listing
