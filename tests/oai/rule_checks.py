"""Checks that /oai/ follows the visibility rule, for the consent property test and the tests here.

assert_oai_follows_the_rule(client, expected, paths): harvested whole (ListRecords and ListIdentifiers over every
page, each set, GetRecord of every story), the endpoint gives metadata for exactly the stories in `expected` (the
ids the rule allows now); any other story is absent or a deleted record (header only, no metadata), and no answer
holds the address of a story the rule hides.
"""

import re

from lxml import etree

from oai.views import repository_identifier

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
ENDPOINT = "/oai/"
_STORY = re.compile(r"^oai:[^:]+:story/(\d+)$")


def story_id(identifier: str) -> int:
    match = _STORY.match(identifier)
    assert match, f"not a story identifier: {identifier}"
    return int(match[1])


def ask(client, **arguments) -> tuple[etree._Element, bytes]:
    response = client.get(ENDPOINT, arguments)
    assert response.status_code == 200, response.status_code
    return etree.fromstring(response.content), response.content


def error_code(document) -> str | None:
    error = document.find(f"{OAI}error")
    return None if error is None else error.get("code")


def harvest(client, verb: str, **arguments) -> tuple[list[etree._Element], list[bytes]]:
    """Every record (ListRecords) or header (ListIdentifiers) of a list, following resumption tokens."""
    items, bodies = [], []
    document, body = ask(client, verb=verb, metadataPrefix="oai_dc", **arguments)
    while True:
        bodies.append(body)
        if error_code(document) == "noRecordsMatch":
            return items, bodies
        assert error_code(document) is None, etree.tostring(document)
        container = document.find(f"{OAI}{verb}")
        items += container.findall(f"{OAI}record" if verb == "ListRecords" else f"{OAI}header")
        token = container.find(f"{OAI}resumptionToken")
        if token is None or not token.text:
            return items, bodies
        document, body = ask(client, verb=verb, resumptionToken=token.text)


def header_of(item) -> etree._Element:
    return item if item.tag == f"{OAI}header" else item.find(f"{OAI}header")


def split(items) -> tuple[list[int], list[int]]:
    """The story ids of a list: those sent with their record, and those sent as deleted."""
    shown, deleted = [], []
    for item in items:
        header = header_of(item)
        pk = story_id(header.findtext(f"{OAI}identifier"))
        if header.get("status") == "deleted":
            assert item.find(f"{OAI}metadata") is None, f"deleted record {pk} carries metadata"
            assert header.findall(f"{OAI}setSpec") == [], f"deleted record {pk} names its sets"
            deleted.append(pk)
        else:
            shown.append(pk)
    return shown, deleted


def assert_oai_follows_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    hidden_paths = [path for pk, path in paths.items() if pk not in expected]
    bodies = []

    records, more = harvest(client, "ListRecords")
    bodies += more
    shown, deleted = split(records)
    assert sorted(shown) == sorted(expected), "ListRecords gives metadata for other stories than the rule allows"
    assert not set(deleted) & expected, "a story the rule allows is listed as deleted"
    assert len(shown) + len(deleted) == len(set(shown) | set(deleted)), "a record is listed twice"
    for record in records:
        header = header_of(record)
        pk = story_id(header.findtext(f"{OAI}identifier"))
        if header.get("status") != "deleted":
            address = record.find(f"{OAI}metadata").findtext(f".//{DC}identifier")
            assert address.endswith(paths[pk]), f"story {pk}'s record points at {address}"

    headers, more = harvest(client, "ListIdentifiers")
    bodies += more
    assert sorted(split(headers)[0]) == sorted(expected), "ListIdentifiers lists other stories than the rule allows"

    sets, body = ask(client, verb="ListSets")
    bodies.append(body)
    in_communities = set()
    for spec in sets.iterfind(f"{OAI}ListSets/{OAI}set/{OAI}setSpec"):
        headers, more = harvest(client, "ListIdentifiers", set=spec.text)
        bodies += more
        in_set = set(split(headers)[0])
        assert in_set <= expected, f"set {spec.text} lists a story the rule hides"
        if spec.text.startswith("community:"):
            in_communities |= in_set
    assert in_communities == expected, "the community sets together list other stories than the rule allows"

    repository = repository_identifier()
    for pk in paths:
        document, body = ask(
            client, verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:{repository}:story/{pk}"
        )
        bodies.append(body)
        if pk in expected:
            assert error_code(document) is None, f"GetRecord refuses story {pk}, which the rule allows"
            assert document.find(f"{OAI}GetRecord/{OAI}record/{OAI}metadata") is not None
        elif error_code(document) != "idDoesNotExist":
            assert error_code(document) is None, etree.tostring(document)
            record = document.find(f"{OAI}GetRecord/{OAI}record")
            assert header_of(record).get("status") == "deleted", f"GetRecord shows story {pk}, which the rule hides"
            assert record.find(f"{OAI}metadata") is None, f"GetRecord gives story {pk}'s metadata"

    for body in bodies:
        text = body.decode()
        for path in hidden_paths:
            assert path not in text, f"an OAI answer holds {path}, the address of a story the rule hides"
