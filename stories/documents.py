"""Who may download a Wagtail document: editors of its collection, and the public only through a page it may see.

A facilitator may keep a signed consent form as a document. Wagtail serves every document to anyone who has its
address; here a document is private unless a page the public may see links it.
"""

from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, ReferenceIndex
from wagtail.permissions import policy_registry

from .models import StoryPage


def pages_the_public_may_see():
    """Live pages without a view restriction on them or above them; a story only when the visibility rule shows it."""
    hidden_stories = StoryPage.objects.exclude(pk__in=StoryPage.objects.visible_to_public().values("pk"))
    return Page.objects.live().public().exclude(pk__in=hidden_stories.values("pk"))


def document_is_public(document) -> bool:
    """True when a page the public may see links the document in its published content."""
    page_type = ContentType.objects.get_for_model(Page)
    linking = ReferenceIndex.get_references_to(document).filter(base_content_type=page_type)
    page_ids = {int(pk) for pk in linking.values_list("object_id", flat=True) if pk.isdigit()}
    if not page_ids:
        return False
    document_types = {
        ContentType.objects.get_for_model(document).pk,
        ReferenceIndex._get_base_content_type(document).pk,
    }
    for page in pages_the_public_may_see().filter(pk__in=page_ids).specific():
        # The index catches up through a queued task; a link just taken out of a page must count for nothing now.
        references = ReferenceIndex._extract_references_from_object(page)
        if any(kind in document_types and pk == str(document.pk) for kind, pk, *_ in references):
            return True
    return False


def document_may_be_served(document, user) -> bool:
    """Editors who may use the document's collection, or anyone when a public page links it."""
    if user.is_authenticated:
        policy = policy_registry.get_by_type(type(document))
        if policy.user_has_any_permission_for_instance(user, ["change", "choose"], document):
            return True
    return document_is_public(document)
