"""A harvester collects the whole archive from /oai/ as a library catalogue would: every page, every set, valid OAI-PMH."""

import datetime

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from sickle.oaiexceptions import NoRecordsMatch

from stories.factories import PersonFactory, StoryPageFactory, public_story
from stories.models import StoryMedia, Visibility
from stories.services import story_withdraw

from .conftest import HOST, build_archive, public_ids, story_paths
from .harvesting import harvester
from .rule_checks import assert_oai_follows_the_rule

# Three pages, at a tenth of the page size served: each story the fixture builds costs about a hundred queries (page,
# participants, consents, search index, the stored answer), a round trip each on PostgreSQL, and the rule check asks
# for every story's record again. Paging is the same code at any size; a page's cost in queries is held below.
PAGE_SIZE = 10
ARCHIVE = 26


def test_a_harvester_collects_every_public_story_across_pages_and_only_those(client, monkeypatch):
    monkeypatch.setattr("oai.records.PAGE_SIZE", PAGE_SIZE)
    stories = build_archive(ARCHIVE)
    PersonFactory(full_name="Never Shown Fullname")
    private = public_story(title="Kept in the family", visibility=Visibility.PRIVATE)
    embargoed = public_story(title="Not yet", embargo_until=datetime.date(2099, 1, 1))
    unconsented = StoryPageFactory(title="Nobody agreed", participants=[PersonFactory()])
    withdrawn = stories[7]
    story_withdraw(story=withdrawn, requested_by="storyteller")
    sickle, adapter = harvester(client, monkeypatch)

    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))

    assert len(adapter.bodies) == 3, "26 records come in three pages of 10"
    shown = {int(r.header.identifier.rsplit("/", 1)[1]): r for r in records if not r.header.deleted}
    deleted = [r for r in records if r.header.deleted]
    assert len(shown) == ARCHIVE - 1
    assert set(shown) == {story.pk for story in stories} - {withdrawn.pk}
    assert [r.header.identifier for r in deleted] == [f"oai:{HOST}:story/{withdrawn.pk}"]
    assert deleted[0].xml.find(".//{http://www.openarchives.org/OAI/2.0/}metadata") is None, "no metadata"
    for hidden in (private, embargoed, unconsented):
        assert hidden.pk not in shown
    text = b"".join(adapter.bodies).decode()
    for words in ("Kept in the family", "Not yet", "Nobody agreed", "Fullname", "Story 7 of the harbour"):
        assert words not in text

    first = shown[stories[0].pk].metadata
    assert first["title"] == ["Story 0 of the harbour"]
    assert first["creator"] == ["Rosa M.", "Jay T."], "display names only, in the story's order"
    assert first["subject"] == ["Humane housing"]
    assert first["description"] == ["Told at the dialogue, number 0."]
    assert first["coverage"] == ["Harbor Point", "Springfield, IL"]
    assert first["date"] == ["2026-05-01"]
    assert first["language"] == ["es"]
    assert first["type"] == ["Text"]
    assert first["identifier"] == [f"http://testserver{story_paths()[stories[0].pk]}"]
    assert first["rights"][0].startswith("Shared by its storytellers with their consent")
    assert sorted(shown[stories[0].pk].header.setSpecs) == [
        "collection:voices-of-the-harbour",
        "community:harbor-point",
        "theme:humane-housing",
    ]

    assert_oai_follows_the_rule(client, public_ids(), story_paths())


def test_identify_formats_and_sets_tell_a_harvester_how_to_harvest(sickle):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC), tick=False):
        first = public_story(title="The first story")
    public_story(title="The second story")

    identify = sickle.Identify()
    assert identify.repositoryName == "Story Archive"
    assert identify.baseURL == "http://testserver/oai/"
    assert identify.protocolVersion == "2.0"
    assert identify.adminEmail == f"stories@{HOST}"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.earliestDatestamp == "2026-03-02T09:30:00Z"
    assert identify.sampleIdentifier == f"oai:{HOST}:story/1"

    formats = list(sickle.ListMetadataFormats())
    assert [(f.metadataPrefix, f.metadataNamespace) for f in formats] == [
        ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/")
    ]
    formats = list(sickle.ListMetadataFormats(identifier=f"oai:{HOST}:story/{first.pk}"))
    assert [f.metadataPrefix for f in formats] == ["oai_dc"]

    sets = {s.setSpec: s.setName for s in sickle.ListSets()}
    assert sets[f"community:{first.community.slug}"] == f"Community: {first.community.name}"
    assert sets["theme:humane-housing"] == "Theme: Humane housing"
    assert len([spec for spec in sets if spec.startswith("theme:")]) == 7


def test_sets_select_a_community_a_theme_or_a_collection(sickle):
    stories = build_archive(12)

    def listed(**arguments):
        return sorted(
            int(h.identifier.rsplit("/", 1)[1]) for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", **arguments)
        )

    assert listed(set="community:cedar-flats") == sorted(s.pk for s in stories[1::3])
    assert listed(set="theme:thriving-natural-world") == sorted(s.pk for s in stories[2::3])
    assert listed(set="collection:voices-of-the-harbour") == sorted(s.pk for s in stories[:5])
    try:
        listed(set="community:atlantis")
    except NoRecordsMatch:
        pass
    else:
        raise AssertionError("a set that does not exist matches no records")


def test_from_and_until_select_by_datestamp_to_the_day_or_the_second(sickle):
    days = [datetime.datetime(2026, 4, day, 12, 0, 30, tzinfo=datetime.UTC) for day in (1, 2, 3)]
    stories = []
    for moment in days:
        with time_machine.travel(moment, tick=False):
            stories.append(public_story())

    def listed(**arguments):
        try:
            headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **arguments))
        except NoRecordsMatch:
            return []
        return [int(h.identifier.rsplit("/", 1)[1]) for h in headers]

    first, second, third = (story.pk for story in stories)
    assert listed() == [first, second, third], "oldest change first"
    assert listed(**{"from": "2026-04-02"}) == [second, third]
    assert listed(until="2026-04-02") == [first, second], "until a day includes the whole day"
    assert listed(**{"from": "2026-04-02", "until": "2026-04-02"}) == [second]
    assert listed(**{"from": "2026-04-02T12:00:30Z", "until": "2026-04-02T12:00:30Z"}) == [second]
    assert listed(**{"from": "2026-04-02T12:00:31Z"}) == [third]
    assert listed(until="2026-03-31") == []
    header = next(iter(sickle.ListIdentifiers(metadataPrefix="oai_dc")))
    assert header.datestamp == "2026-04-01T12:00:30Z"


def test_a_withdrawal_in_the_middle_of_a_harvest_is_sent_as_a_deletion_before_it_ends(client, monkeypatch):
    monkeypatch.setattr("oai.records.PAGE_SIZE", 3)
    stories = [public_story() for _ in range(7)]
    sickle, adapter = harvester(client, monkeypatch)
    headers = sickle.ListIdentifiers(metadataPrefix="oai_dc")
    seen = [next(headers) for _ in range(3)]

    story_withdraw(story=stories[0], requested_by="storyteller")  # already harvested: it moves to the end
    rest = list(headers)

    assert [h.identifier.rsplit("/", 1)[1] for h in seen] == [str(s.pk) for s in stories[:3]]
    assert [(h.identifier.rsplit("/", 1)[1], h.deleted) for h in rest] == [(str(s.pk), False) for s in stories[3:]] + [
        (str(stories[0].pk), True)
    ]
    assert len(adapter.bodies) == 3


def test_a_page_of_records_costs_the_same_queries_however_many_stories_are_on_it(client):
    """Records are read a page at a time, never story by story."""

    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/oai/?verb=ListRecords&metadataPrefix=oai_dc").status_code == 200
        return len(captured)

    build_archive(3)
    queries_for_a_page()  # the site's root paths are cached by the first request
    few = queries_for_a_page()
    for _ in range(12):
        public_story(people=[PersonFactory(), PersonFactory()])
    assert queries_for_a_page() == few


def test_a_record_says_whether_the_story_is_heard_seen_or_read(sickle):
    def kept(video_codec: str) -> StoryMedia:
        return StoryMedia.objects.create(
            file="recordings/x/original.mp4", size=10, sha256="0" * 64, container="mp4", video_codec=video_codec
        )

    heard = public_story(recording=kept(""))
    seen = public_story(recording=kept("h264"))
    read = public_story()

    types = {
        int(record.header.identifier.rsplit("/", 1)[1]): record.metadata["type"]
        for record in sickle.ListRecords(metadataPrefix="oai_dc")
    }
    assert types == {heard.pk: ["Sound"], seen.pk: ["MovingImage"], read.pk: ["Text"]}
