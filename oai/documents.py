"""The OAI-PMH response documents, built with lxml: the envelope, headers, and each story as simple Dublin Core."""

import re

from django.conf import settings
from lxml import etree

from stories.models import StoryKind

from .protocol import datestamp
from .records import Record

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"

# The DCMI Type vocabulary's words for what a story is.
DCMI_TYPES = {StoryKind.AUDIO: "Sound", StoryKind.VIDEO: "MovingImage", StoryKind.TEXT: "Text"}
RIGHTS = (
    "Shared by its storytellers with their consent for the public archive, which they may withdraw at any time. "
    "The storytellers keep their rights; ask the archive before reusing it."
)
# XML 1.0 has no place for most control characters; text typed into a form may still hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text) -> str:
    return _NOT_XML.sub("", str(text))


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _add(parent, namespace: str, name: str, text=None, **attributes):
    element = etree.SubElement(parent, _q(namespace, name), {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def envelope(*, base_url: str, response_date, arguments: dict[str, str] | None):
    """The OAI-PMH root with its responseDate and request; `arguments` None for badVerb and badArgument answers,
    whose request element must carry no attributes."""
    root = etree.Element(_q(OAI, "OAI-PMH"), nsmap={None: OAI, "xsi": XSI})
    root.set(_q(XSI, "schemaLocation"), f"{OAI} {OAI_SCHEMA}")
    _add(root, OAI, "responseDate", datestamp(response_date))
    _add(root, OAI, "request", base_url, **(arguments or {}))
    return root


def add_error(root, code: str, message: str) -> None:
    _add(root, OAI, "error", message, code=code)


def add_identify(
    root, *, base_url: str, earliest, admin_emails: list[str], repository_identifier: str, sample_identifier: str
) -> None:
    identify = _add(root, OAI, "Identify")
    _add(identify, OAI, "repositoryName", settings.WAGTAIL_SITE_NAME)
    _add(identify, OAI, "baseURL", base_url)
    _add(identify, OAI, "protocolVersion", "2.0")
    for email in admin_emails:
        _add(identify, OAI, "adminEmail", email)
    _add(identify, OAI, "earliestDatestamp", datestamp(earliest))
    _add(identify, OAI, "deletedRecord", "persistent")
    _add(identify, OAI, "granularity", "YYYY-MM-DDThh:mm:ssZ")
    if repository_identifier:
        description = _add(identify, OAI, "description")
        oai_identifier = etree.SubElement(
            description, _q(OAI_IDENTIFIER, "oai-identifier"), nsmap={None: OAI_IDENTIFIER}
        )
        oai_identifier.set(_q(XSI, "schemaLocation"), f"{OAI_IDENTIFIER} {OAI_IDENTIFIER_SCHEMA}")
        _add(oai_identifier, OAI_IDENTIFIER, "scheme", "oai")
        _add(oai_identifier, OAI_IDENTIFIER, "repositoryIdentifier", repository_identifier)
        _add(oai_identifier, OAI_IDENTIFIER, "delimiter", ":")
        _add(oai_identifier, OAI_IDENTIFIER, "sampleIdentifier", sample_identifier)


def add_metadata_formats(root) -> None:
    formats = _add(root, OAI, "ListMetadataFormats")
    metadata_format = _add(formats, OAI, "metadataFormat")
    _add(metadata_format, OAI, "metadataPrefix", "oai_dc")
    _add(metadata_format, OAI, "schema", OAI_DC_SCHEMA)
    _add(metadata_format, OAI, "metadataNamespace", OAI_DC)


def add_sets(root, sets) -> None:
    container = _add(root, OAI, "ListSets")
    for oai_set in sets:
        element = _add(container, OAI, "set")
        _add(element, OAI, "setSpec", oai_set.spec)
        _add(element, OAI, "setName", oai_set.name)


def add_verb(root, verb: str):
    """The element named after the verb, which holds the answer."""
    return _add(root, OAI, verb)


def add_header(parent, record: Record, identifier: str) -> None:
    attributes = {"status": "deleted"} if record.deleted else {}
    header = _add(parent, OAI, "header", **attributes)
    _add(header, OAI, "identifier", identifier)
    _add(header, OAI, "datestamp", datestamp(record.changed_at))
    for spec in record.set_specs:
        _add(header, OAI, "setSpec", spec)


def add_record(parent, record: Record, identifier: str, story_url: str) -> None:
    """A record: the header, and for a story the public may see, its Dublin Core; a deleted record has no metadata."""
    element = _add(parent, OAI, "record")
    add_header(element, record, identifier)
    if record.deleted:
        return
    story = record.story
    metadata = _add(element, OAI, "metadata")
    dc = etree.SubElement(metadata, _q(OAI_DC, "dc"), nsmap={"oai_dc": OAI_DC, "dc": DC})
    dc.set(_q(XSI, "schemaLocation"), f"{OAI_DC} {OAI_DC_SCHEMA}")
    _add(dc, DC, "title", story.title)
    for display_name in story.creators:
        _add(dc, DC, "creator", display_name)
    for subject in story.subjects:
        _add(dc, DC, "subject", subject)
    if story.summary:
        _add(dc, DC, "description", story.summary)
    _add(dc, DC, "publisher", settings.WAGTAIL_SITE_NAME)
    if story.recorded_on:
        _add(dc, DC, "date", story.recorded_on.isoformat())
    _add(dc, DC, "type", DCMI_TYPES[story.kind])
    _add(dc, DC, "identifier", story_url)
    _add(dc, DC, "language", story.language)
    if story.community_name:
        _add(dc, DC, "coverage", story.community_name)
        if story.community_place:
            _add(dc, DC, "coverage", story.community_place)
    _add(dc, DC, "rights", RIGHTS)


def add_resumption_token(parent, token: str, *, cursor: int) -> None:
    """A token for the next page, or an empty one (token "") on the last page of a list that was resumed."""
    element = _add(parent, OAI, "resumptionToken", token or None, cursor=str(cursor))
    if not token:
        element.text = None


def serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
