"""The OAI-PMH 2.0 XML schema, with oai_dc and oai-identifier, loaded from tests/fixtures/oai without the network."""

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "oai"
# Where the vendored schemas import each other from, as they are published.
PUBLISHED = {"http://www.w3.org/2001/03/xml.xsd": SCHEMAS / "xml.xsd"}


class _Vendored(etree.Resolver):
    def resolve(self, url, public_id, context):
        if url in PUBLISHED:
            return self.resolve_filename(str(PUBLISHED[url]), context)
        return None


@cache
def oai_pmh_schema() -> etree.XMLSchema:
    """One schema for whole responses: the envelope, Dublin Core records inside it and the Identify description, all
    validated strictly as OAI-PMH.xsd asks (`processContents="strict"`)."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Vendored())
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{(SCHEMAS / name).as_uri()}"/>'
        for namespace, name in (
            ("http://www.openarchives.org/OAI/2.0/", "OAI-PMH.xsd"),
            ("http://www.openarchives.org/OAI/2.0/oai_dc/", "oai_dc.xsd"),
            ("http://www.openarchives.org/OAI/2.0/oai-identifier", "oai-identifier.xsd"),
        )
    )
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    return etree.XMLSchema(etree.fromstring(wrapper, parser, base_url=str(SCHEMAS) + "/"))


def assert_valid(body: bytes) -> etree._Element:
    """Parse a response and check it against the schema; returns the document's root."""
    document = etree.fromstring(body)
    schema = oai_pmh_schema()
    assert schema.validate(document), str(schema.error_log)
    return document
