"""Every OAI-PMH error condition is answered as the protocol says: a valid document with the right error code, never an
error page. badVerb and badArgument answers name no argument in their request element."""

import pytest
from django.core import signing
from lxml import etree

from stories.factories import StoryPageFactory, public_story
from stories.services import story_withdraw

from .conftest import HOST
from .rule_checks import OAI, error_code
from .schema import assert_valid


def answer(client, query: str = "", *, method: str = "get"):
    if method == "post":
        response = client.post("/oai/", query, content_type="application/x-www-form-urlencoded")
    else:
        response = client.get(f"/oai/?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return assert_valid(response.content)


def token_from(document) -> str:
    return document.findtext(f".//{OAI}resumptionToken")


@pytest.mark.parametrize(
    "query",
    ["", "verb=Harvest", "verb=listrecords", "verb=Identify&verb=Identify", "verb=Identify&verb=ListSets"],
    ids=["missing", "unknown", "wrong-case", "repeated", "two-verbs"],
)
def test_a_missing_unknown_or_repeated_verb_is_bad_verb(client, query):
    document = answer(client, query)
    assert error_code(document) == "badVerb"
    assert document.find(f"{OAI}request").attrib == {}


@pytest.mark.parametrize(
    "query",
    [
        "verb=Identify&metadataPrefix=oai_dc",
        "verb=ListRecords",
        "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=oai_dc&colour=blue",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-13-01",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=yesterday",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01T00:00:00",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01&until=2026-02-01T00:00:00Z",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-02-01&until=2026-01-01",
        "verb=GetRecord&metadataPrefix=oai_dc",
        f"verb=GetRecord&identifier=oai:{HOST}:story/1",
        "verb=ListSets&set=theme:humane-housing",
        "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=abc",
        "verb=ListRecords&metadataPrefix=oai%20dc",
        "verb=ListRecords&metadataPrefix=oai_dc&set=community:",
        "verb=ListRecords&metadataPrefix=oai_dc&set=community%3Aharbor%20point",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=0000-01-01",
    ],
    ids=[
        "argument-of-another-verb",
        "missing-prefix",
        "repeated-argument",
        "unknown-argument",
        "impossible-date",
        "not-a-date",
        "time-without-zone",
        "mixed-granularity",
        "from-after-until",
        "missing-identifier",
        "missing-prefix-for-record",
        "set-on-list-sets",
        "token-not-exclusive",
        "prefix-with-a-space",
        "set-ending-in-a-colon",
        "set-with-a-space",
        "year-zero",
    ],
)
def test_an_illegal_missing_or_repeated_argument_is_bad_argument(client, query):
    document = answer(client, query)
    assert error_code(document) == "badArgument"
    assert document.find(f"{OAI}request").attrib == {}, "a badArgument answer echoes no argument"


def test_a_format_the_archive_does_not_make_cannot_be_disseminated(client):
    story = public_story()
    for query in (
        "verb=ListRecords&metadataPrefix=marc21",
        "verb=ListIdentifiers&metadataPrefix=mods",
        f"verb=GetRecord&metadataPrefix=marc21&identifier=oai:{HOST}:story/{story.pk}",
    ):
        document = answer(client, query)
        assert error_code(document) == "cannotDisseminateFormat", query
        assert document.find(f"{OAI}request").get("verb"), "other errors echo the request's arguments"


def test_an_identifier_the_archive_never_published_does_not_exist(client):
    story = public_story()
    draft = StoryPageFactory(title="A draft nobody has seen", live=False)
    for identifier in (
        f"oai:{HOST}:story/{draft.pk}",
        f"oai:{HOST}:story/999999",
        f"oai:elsewhere.example.org:story/{story.pk}",
        f"oai:{HOST}:story/{story.slug}",
        "not an identifier",
    ):
        for verb in ("GetRecord&metadataPrefix=oai_dc", "ListMetadataFormats"):
            document = answer(client, f"verb={verb}&identifier={identifier}")
            assert error_code(document) == "idDoesNotExist", (verb, identifier)


def test_a_list_with_nothing_in_it_matches_no_records(client):
    public_story()
    for query in (
        "verb=ListRecords&metadataPrefix=oai_dc&until=2000-01-01",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&set=community:atlantis",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&set=nothing-like-a-set",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2999-01-01T00:00:00Z",
        "verb=ListRecords&metadataPrefix=oai_dc&from=9999-12-31&until=9999-12-31",
    ):
        assert error_code(answer(client, query)) == "noRecordsMatch", query


def test_an_empty_archive_matches_no_records(client):
    assert error_code(answer(client, "verb=ListRecords&metadataPrefix=oai_dc")) == "noRecordsMatch"
    assert answer(client, "verb=Identify").findtext(f".//{OAI}earliestDatestamp")


def test_a_token_not_issued_here_or_changed_on_the_way_is_refused(client, monkeypatch):
    monkeypatch.setattr("oai.records.PAGE_SIZE", 2)
    for _ in range(3):
        public_story()
    token = token_from(answer(client, "verb=ListIdentifiers&metadataPrefix=oai_dc"))
    assert token
    assert error_code(answer(client, f"verb=ListIdentifiers&resumptionToken={token}")) is None, "control"

    payload = signing.loads(token, salt="oai.resumption-token")
    forged = signing.dumps({**payload, "i": 0, "c": 0}, salt="not-the-archive's", compress=True)
    for bad in ("made-up", token[:-3] + "xyz", forged, "." + token):
        document = answer(client, f"verb=ListIdentifiers&resumptionToken={bad}")
        assert error_code(document) == "badResumptionToken"
        assert document.find(f"{OAI}request").attrib == {"verb": "ListIdentifiers", "resumptionToken": bad}
    assert error_code(answer(client, f"verb=ListRecords&resumptionToken={token}")) == "badResumptionToken", (
        "a ListIdentifiers token does not resume ListRecords"
    )
    assert error_code(answer(client, "verb=ListSets&resumptionToken=anything")) == "badResumptionToken"


def test_a_resumed_list_counts_its_cursor_and_ends_with_an_empty_token(client, monkeypatch):
    monkeypatch.setattr("oai.records.PAGE_SIZE", 2)
    for _ in range(3):
        public_story()
    first = answer(client, "verb=ListRecords&metadataPrefix=oai_dc")
    token = first.find(f".//{OAI}resumptionToken")
    assert token.get("cursor") == "0" and token.text
    last = answer(client, f"verb=ListRecords&resumptionToken={token.text}")
    end = last.find(f".//{OAI}resumptionToken")
    assert end.get("cursor") == "2" and not end.text, "the last page carries an empty token"
    assert len(last.findall(f".//{OAI}record")) == 1
    assert last.find(f"{OAI}request").get("resumptionToken") == token.text


def test_a_deleted_item_has_no_metadata_formats(client):
    story = public_story()
    story_withdraw(story=story, requested_by="storyteller")
    document = answer(client, f"verb=ListMetadataFormats&identifier=oai:{HOST}:story/{story.pk}")
    assert error_code(document) == "noMetadataFormats"


def test_post_is_answered_as_get(client):
    story = public_story(title="Asked by post")
    document = answer(
        client, f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{HOST}:story/{story.pk}", method="post"
    )
    assert document.findtext(".//{http://purl.org/dc/elements/1.1/}title") == "Asked by post"
    assert error_code(answer(client, "verb=Nope", method="post")) == "badVerb"


def test_other_methods_are_not_allowed(client):
    assert client.put("/oai/?verb=Identify").status_code == 405


def test_answers_may_be_kept_by_a_cache_only_to_ask_again(client):
    response = client.get("/oai/?verb=Identify")
    assert response["Cache-Control"] == "no-cache"
    assert etree.fromstring(response.content).tag == f"{OAI}OAI-PMH"


@pytest.mark.parametrize("digits", [18, 40])
def test_an_identifier_with_a_huge_number_does_not_exist(client, digits):
    public_story()
    query = f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{HOST}:story/{'9' * digits}"
    assert error_code(answer(client, query)) == "idDoesNotExist"


@pytest.mark.parametrize(
    "query",
    [
        f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{HOST}:story/1%00",
        "verb=ListRecords&metadataPrefix=oai_dc%00",
        "verb=ListRecords&metadataPrefix=oai_dc&set=community:a%00",
        "verb=ListRecords&resumptionToken=%00",
        "verb=Identify%00",
    ],
    ids=["identifier", "prefix", "set", "token", "verb"],
)
def test_a_nul_byte_is_refused_at_the_door_as_everywhere_never_a_server_error(client, query):
    public_story()
    assert client.get(f"/oai/?{query}").status_code == 400
    response = client.post("/oai/", query, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert error_code(assert_valid(response.content)) in (
            "badArgument",
            "badVerb",
            "idDoesNotExist",
            "badResumptionToken",
        )
