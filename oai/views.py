"""The OAI-PMH 2.0 endpoint: one address, six verbs, GET or POST, every answer an OAI-PMH document (errors too)."""

import re
from email.utils import parseaddr

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from wagtail.models import Site

from . import documents, records
from .protocol import METADATA_PREFIX, ProtocolError, make_token, parse_request

STORY_IDENTIFIER = re.compile(r"^oai:(?P<repository>[^:]+):story/(?P<id>[1-9][0-9]{0,17})$")
# The oai-identifier guidelines ask for a registered domain name as the repository identifier.
_DOMAIN_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")


def repository_identifier() -> str:
    """The default site's host name: the archive's own address, so identifiers stay with it whoever asks."""
    site = Site.objects.filter(is_default_site=True).only("hostname").first()
    return site.hostname if site else "localhost"


def story_identifier(story_id: int, repository: str) -> str:
    """A story's OAI identifier: its id only, no title words, since a deleted record keeps it for good."""
    return f"oai:{repository}:story/{story_id}"


def _story_id(identifier: str, repository: str) -> int:
    match = STORY_IDENTIFIER.match(identifier)
    if not match or match["repository"] != repository:
        raise ProtocolError("idDoesNotExist", "No item has this identifier.")
    return int(match["id"])


def _admin_emails() -> list[str]:
    return [parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "stories@localhost"]


@csrf_exempt
def endpoint(request):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    query = request.POST if request.method == "POST" else request.GET
    base_url = request.build_absolute_uri(reverse("oai:endpoint"))
    now = timezone.now()
    try:
        oai_request = parse_request(query)
    except ProtocolError as error:
        # badVerb and badArgument: the request element names no argument, as the protocol asks. A token that cannot
        # be read comes with arguments already checked (the verb and the token alone), which are echoed.
        echoed = None if error.code in ("badVerb", "badArgument") else {name: query[name] for name in query}
        root = documents.envelope(base_url=base_url, response_date=now, arguments=echoed)
        documents.add_error(root, error.code, error.message)
        return _response(root)
    echoed = {"verb": oai_request.verb, **oai_request.arguments}
    root = documents.envelope(base_url=base_url, response_date=now, arguments=echoed)
    try:
        _answer(root, request, oai_request, base_url)
    except ProtocolError as error:
        documents.add_error(root, error.code, error.message)
    return _response(root)


def _answer(root, request, oai_request, base_url: str) -> None:
    repository = repository_identifier()
    verb = oai_request.verb
    if verb == "Identify":
        documents.add_identify(
            root,
            base_url=base_url,
            earliest=records.earliest_datestamp() or timezone.now(),
            admin_emails=_admin_emails(),
            repository_identifier=repository if _DOMAIN_NAME.match(repository) else "",
            sample_identifier=story_identifier(1, repository),
        )
    elif verb == "ListMetadataFormats":
        if "identifier" in oai_request.arguments:
            record = records.single_record(_story_id(oai_request.arguments["identifier"], repository))
            if record is None:
                raise ProtocolError("idDoesNotExist", "No item has this identifier.")
            if record.deleted:
                raise ProtocolError("noMetadataFormats", "This item has been deleted: it has no metadata.")
        documents.add_metadata_formats(root)
    elif verb == "ListSets":
        sets = records.all_sets()
        if not sets:
            raise ProtocolError("noSetHierarchy", "This archive has no sets yet.")
        documents.add_sets(root, sets)
    elif verb == "GetRecord":
        story_id = _story_id(oai_request.arguments["identifier"], repository)
        _check_format(oai_request.arguments["metadataPrefix"])
        record = records.single_record(story_id)
        if record is None:
            raise ProtocolError("idDoesNotExist", "No item has this identifier.")
        container = documents.add_verb(root, "GetRecord")
        documents.add_record(container, record, story_identifier(story_id, repository), _url(record, request))
    else:
        _answer_list(root, request, oai_request, repository)


def _answer_list(root, request, oai_request, repository: str) -> None:
    selection, position = oai_request.selection, oai_request.position
    _check_format(selection.metadata_prefix)
    with_metadata = oai_request.verb == "ListRecords"
    page = records.record_page(selection, position, with_metadata=with_metadata)
    if not page.records:
        # The rest of the list left the set after the token was issued (a theme or collection entry removed).
        raise ProtocolError("badResumptionToken", "The rest of this list has changed: please harvest it again.")
    container = documents.add_verb(root, oai_request.verb)
    for record in page.records:
        identifier = story_identifier(record.story_id, repository)
        if with_metadata:
            documents.add_record(container, record, identifier, _url(record, request))
        else:
            documents.add_header(container, record, identifier)
    if page.next_position is not None:
        token = make_token(verb=oai_request.verb, selection=selection, position=page.next_position)
        documents.add_resumption_token(container, token, cursor=position.cursor if position else 0)
    elif position is not None:
        documents.add_resumption_token(container, "", cursor=position.cursor)


def _check_format(metadata_prefix: str) -> None:
    if metadata_prefix != METADATA_PREFIX:
        raise ProtocolError("cannotDisseminateFormat", f"Records are available as {METADATA_PREFIX} only.")


def _url(record, request) -> str:
    return request.build_absolute_uri(record.story.path) if record.story and record.story.path else ""


def _response(root) -> HttpResponse:
    response = HttpResponse(documents.serialize(root), content_type="text/xml; charset=utf-8")
    # A story can be hidden at any moment: a shared cache may keep an answer only to ask again each time.
    response["Cache-Control"] = "no-cache"
    return response
