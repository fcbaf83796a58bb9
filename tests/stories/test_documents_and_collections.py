"""Documents are private to editors unless a page the public may see links them; the home page shows nothing of a
featured collection the public may not open."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.models import Collection, PageViewRestriction

from stories.factories import CollectionPageFactory, public_story
from stories.models import HomePage, StoryPage, Visibility

Document = get_document_model()
SECRET_INTRO = "Only the families who came to the dialogue should read this."


def document(title: str) -> Document:
    return Document.objects.create(
        title=title,
        file=ContentFile(f"%PDF-1.4 {title}".encode(), name=f"{title.lower().replace(' ', '-')}.pdf"),
        collection=Collection.get_first_root_node(),
    )


def linking_body(doc) -> list:
    return [("paragraph", f'<p>Read <a linktype="document" id="{doc.pk}">{doc.title}</a>.</p>')]


@pytest.fixture
def archive(django_capture_on_commit_callbacks):
    """Four documents: one on a public story, one unlinked, one on a hidden story, one on a password-protected page."""
    with django_capture_on_commit_callbacks(execute=True):
        linked = document("Garden plan")
        consent_form = document("Signed consent form")
        on_hidden_story = document("Family letter")
        behind_password = document("Dialogue notes")
        first = public_story(body=linking_body(linked))
        second = public_story(body=linking_body(linked))  # linked twice: still one document
        public_story(body=linking_body(on_hidden_story), visibility=Visibility.PRIVATE)
        protected = CollectionPageFactory(intro=f'<p><a linktype="document" id="{behind_password.pk}">notes</a></p>')
        PageViewRestriction.objects.create(page=protected, restriction_type="password", password="dialogue")
    documents = {
        "linked": linked,
        "consent_form": consent_form,
        "hidden": on_hidden_story,
        "protected": behind_password,
    }
    return documents, [first, second]


def test_documents_are_private_unless_a_public_page_links_them(client, archive):
    documents, _ = archive
    answers = {name: client.get(doc.url).status_code for name, doc in documents.items()}
    assert answers == {"linked": 200, "consent_form": 404, "hidden": 404, "protected": 404}
    assert sum(status == 200 for status in answers.values()) == 1
    assert client.get(documents["linked"].url).getvalue() == b"%PDF-1.4 Garden plan"  # control: served in full


def test_editors_still_open_every_document_and_other_accounts_do_not(
    client, admin_user, facilitator, django_user_model, archive
):
    documents, _ = archive
    for editor in (admin_user, facilitator):
        client.force_login(editor)
        assert {name: client.get(doc.url).status_code for name, doc in documents.items()} == dict.fromkeys(
            documents, 200
        )
    client.force_login(django_user_model.objects.create_user("visitor", "visitor@example.org", "a-long-passphrase"))
    answers = {name: client.get(doc.url).status_code for name, doc in documents.items()}
    assert answers == {"linked": 200, "consent_form": 404, "hidden": 404, "protected": 404}


def test_a_document_becomes_private_once_no_public_page_links_it(client, archive):
    documents, (first, second) = archive
    linked = documents["linked"]
    StoryPage.objects.get(pk=first.pk).unpublish()
    assert client.get(linked.url).status_code == 200  # control: the other story still links it
    StoryPage.objects.get(pk=second.pk).unpublish()
    assert client.get(linked.url).status_code == 404


@pytest.mark.parametrize("restriction", ["password", "login", "groups", "unpublished"])
def test_the_home_page_shows_nothing_of_a_restricted_featured_collection(client, restriction):
    home = HomePage.objects.get()
    open_collection = CollectionPageFactory(title="Bus stops we remember", intro="<p>Stories of the number 9.</p>")
    closed = CollectionPageFactory(title="Kept for the families", intro=f"<p>{SECRET_INTRO}</p>")
    home.featured_collection = open_collection
    home.save_revision().publish()
    page = client.get("/").content.decode()
    assert "Stories of the number 9." in page and "Bus stops we remember" in page  # control: a public collection shows

    if restriction == "unpublished":
        closed.unpublish()
    else:
        kept = PageViewRestriction.objects.create(page=closed, restriction_type=restriction, password="families")
        if restriction == "groups":
            kept.groups.set([Group.objects.create(name="Dialogue families")])
    home.featured_collection = closed
    home.save_revision().publish()

    page = client.get("/").content.decode()
    assert SECRET_INTRO not in page and "Kept for the families" not in page and closed.url not in page
    assert "Featured collection" not in page
