"""The rule's stored answer: written with every change the models announce, hiding in the same transaction, read by
every listing by index and page by keyset, kept honest by the reconciler, and read by query plans that never scan the
whole archive."""

import datetime
import json
import logging
import re
from html import unescape

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stories.factories import (
    CollectionEntryFactory,
    CollectionPageFactory,
    CommunityFactory,
    DialogueFactory,
    public_story,
    theme,
)
from stories.models import Consent, PublicCount, PublicStory, PublicStoryTheme, StoryPage, Visibility
from stories.selectors import Cursor, InvalidCursor, RowGreaterThan, RowLessThan, public_stories_listed
from stories.services import embargo_lift
from stories.services.public import public_stories_rebuild, public_stories_verify

STORIES = 45  # more than two pages of twenty


@pytest.fixture
def archive():
    """45 public stories in one community and theme, newest last, and a collection of three of them."""
    community = CommunityFactory(name="Mill Creek", slug="mill-creek")
    housing = theme("humane-housing")
    stories = [public_story(title=f"Home {n:02d}", community=community, themes=[housing]) for n in range(STORIES)]
    collection = CollectionPageFactory(title="Homes", slug="homes")
    for order, story in enumerate(stories[:3]):
        CollectionEntryFactory(page=collection, story=story, sort_order=order)
    return community, housing, stories


def listed_ids() -> set[int]:
    return set(PublicStory.objects.listed().values_list("story_id", flat=True))


def allowed_ids() -> set[int]:
    return set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))


def titles_over_pages(client, url: str) -> list[str]:
    """The titles a listing shows, following its "Older stories" links to the end."""
    titles, page = [], url
    for _ in range(10):
        html = client.get(page).content.decode()
        titles += re.findall(r">(Home \d\d)<", html)
        older = re.search(r'href="(\?after=[^"]+)" rel="next"', html)
        if not older:
            return titles
        page = url + unescape(older[1])
    raise AssertionError(f"{url} never ends")


def test_the_stored_answer_is_the_rules_answer_after_each_way_a_story_is_hidden(archive):
    _community, _housing, stories = archive
    assert listed_ids() == allowed_ids() == {story.pk for story in stories}

    stories[0].unpublish()
    stories[1].visibility = Visibility.PRIVATE
    stories[1].save()
    stories[2].embargo_until = timezone.localdate() + datetime.timedelta(days=3)
    stories[2].save()
    consent = Consent.objects.filter(story=stories[3]).first()
    consent.scope = Consent.Scope.RESEARCH
    consent.save()
    person = stories[4].participants.first().person
    person.birth_year = timezone.localdate().year - 10  # a child now, with no guardian on record
    person.save()
    StoryPage.objects.get(pk=stories[5].pk).delete()

    assert listed_ids() == allowed_ids() == {story.pk for story in stories[6:]}
    counted = PublicCount.objects.get(subject=PublicCount.Subject.ALL).stories
    assert counted == STORIES - 6


def test_hiding_reaches_the_stored_answer_inside_the_transaction_that_hides(archive):
    _community, _housing, stories = archive
    with transaction.atomic():
        stories[7].visibility = Visibility.FACILITATORS
        stories[7].save()
        # Before commit, before any on-commit work: no listing may show it from here on.
        assert stories[7].pk not in listed_ids()
        assert public_stories_listed(size=100).count == STORIES - 1


def test_a_hidden_story_keeps_its_row_so_harvesters_can_be_told_to_forget_it(archive):
    _community, _housing, stories = archive
    before = PublicStory.objects.get(story_id=stories[8].pk).changed_at
    StoryPage.objects.get(pk=stories[8].pk).delete()

    row = PublicStory.objects.get(story_id=stories[8].pk)
    assert row.is_public is False and row.changed_at > before


def test_an_embargo_that_ends_shows_the_story_in_the_listings(archive, django_capture_on_commit_callbacks):
    _community, _housing, stories = archive
    story = StoryPage.objects.get(pk=stories[9].pk)
    story.embargo_until = timezone.localdate() + datetime.timedelta(days=1)
    story.save()
    assert story.pk not in listed_ids()

    with django_capture_on_commit_callbacks(execute=True):
        embargo_lift(today=timezone.localdate() + datetime.timedelta(days=1))

    assert story.pk in listed_ids()


def test_every_listing_pages_through_each_public_story_once_newest_first(client, archive):
    community, housing, stories = archive
    stories[10].unpublish()  # hidden in the middle of the second page
    expected = [story.title for story in reversed(stories) if story.pk != stories[10].pk]

    for url in (
        "/stories/",
        reverse("stories:community", args=[community.slug]),
        reverse("stories:theme", args=[housing.slug]),
    ):
        assert titles_over_pages(client, url) == expected, url
        assert f"{STORIES - 1} stories in all" in client.get(url).content.decode()


def test_stories_published_at_the_same_instant_are_each_listed_once(client, archive):
    """An import that publishes many stories at once: the id breaks the tie, so no page repeats or skips one."""
    _community, _housing, stories = archive
    PublicStory.objects.update(published_at=timezone.now())

    titles = titles_over_pages(client, "/stories/")

    assert titles == [story.title for story in reversed(stories)]


def test_newer_stories_lead_back_to_the_page_before(client, archive):
    first = client.get("/stories/").content.decode()
    older = unescape(re.search(r'href="(\?after=[^"]+)" rel="next"', first)[1])
    second = client.get("/stories/" + older).content.decode()
    newer = unescape(re.search(r'href="(\?before=[^"]+)" rel="prev"', second)[1])

    again = client.get("/stories/" + newer).content.decode()

    assert re.findall(r">(Home \d\d)<", again) == re.findall(r">(Home \d\d)<", first)
    assert 'rel="prev"' not in again  # the newest page has nothing newer


def test_the_api_pages_by_next_with_an_exact_count(client, archive):
    _community, _housing, stories = archive
    answer = client.get("/api/stories", {"page_size": 20}).json()
    ids = [story["id"] for story in answer["items"]]
    while answer["next"]:
        answer = client.get(answer["next"]).json()
        assert answer["count"] == STORIES and answer["previous"]
        ids += [story["id"] for story in answer["items"]]

    assert ids == [story.pk for story in reversed(stories)]


@pytest.mark.parametrize("place", ["nowhere", "1.2.3", "-5.1", "99999999999999999999.1"])
def test_a_place_no_listing_handed_out_is_refused_with_a_clear_message(client, archive, place):
    community, _housing, _stories = archive
    for url in ("/stories/", reverse("stories:community", args=[community.slug])):
        response = client.get(url, {"after": place})
        assert response.status_code == 400
        assert "not a place in this list" in response.content.decode() or "out of range" in response.content.decode()


def test_a_cursor_reads_back_to_the_same_place():
    cursor = Cursor(published_at=datetime.datetime(2026, 5, 1, 12, 30, 1, 250, tzinfo=datetime.UTC), story_id=42)
    assert Cursor.parse(str(cursor)) == cursor
    with pytest.raises(InvalidCursor):
        Cursor.parse("1.")


def test_the_reconciler_finds_and_repairs_a_write_that_skipped_the_models(client, archive, caplog):
    _community, _housing, stories = archive
    Consent.objects.filter(story=stories[11]).update(scope=Consent.Scope.RESEARCH)  # announces nothing
    # Control: the stored answer did not hear it, so only the page's own check of the rule keeps it off the list.
    assert stories[11].pk in listed_ids()
    assert stories[11].title not in titles_over_pages(client, "/stories/")

    with caplog.at_level(logging.INFO, logger="stories.services.public"):
        check = public_stories_verify(repair=True)

    assert check.shown_but_hidden == 1
    assert any(r.levelno == logging.ERROR and "rule hides" in r.getMessage() for r in caplog.records)
    assert listed_ids() == allowed_ids()
    assert public_stories_verify(repair=False).drift == 0


def test_a_rebuild_stores_the_whole_answer_and_its_counts(archive):
    community, housing, stories = archive
    PublicStory.objects.all().delete()
    PublicCount.objects.all().delete()

    assert public_stories_rebuild() == STORIES

    assert listed_ids() == allowed_ids()
    counts = {(c.subject, c.subject_id): c.stories for c in PublicCount.objects.all()}
    assert counts[(PublicCount.Subject.COMMUNITY, community.pk)] == STORIES
    assert counts[(PublicCount.Subject.THEME, housing.pk)] == STORIES


# Query plans: no listing reads every story, participant or consent -----------------------------------------------

# Tables that grow with the archive. Themes, communities, sites and view restrictions stay small.
ARCHIVE_TABLES = {
    "wagtailcore_page",
    "stories_storypage",
    "stories_storypage_themes",
    "stories_storyparticipant",
    "stories_consent",
    "stories_person",
    "stories_publicstory",
    "stories_publicstorytheme",
}
# Curated by hand: collections hold dozens of stories, not a share of the archive, and may be read whole.
CURATED_TABLES = {"stories_collectionentry"}


def older_page(url: str) -> str:
    from django.test import Client

    html = Client().get(url).content.decode()
    return url + unescape(re.search(r'href="(\?after=[^"]+)" rel="next"', html)[1])


def public_listings(archive) -> list[str]:
    community, housing, stories = archive
    dialogue = DialogueFactory(title="Kitchen table talks", community=community)
    StoryPage.objects.filter(pk__in=[story.pk for story in stories[:25]]).update(dialogue=dialogue)
    story_index = "/stories/"
    deeper = [
        older_page(url)
        for url in (
            story_index,
            reverse("stories:community", args=[community.slug]),
            reverse("stories:theme", args=[housing.slug]),
        )
    ]
    return [
        *deeper,
        deeper[0].replace("after=", "before="),
        "/",
        story_index,
        reverse("stories:community", args=[community.slug]),
        reverse("stories:theme", args=[housing.slug]),
        reverse("stories:communities"),
        reverse("stories:themes"),
        reverse("stories:collections"),
        "/homes/",
        # Search's first page also reads the stories available on request (through their own index).
        "/search/?q=housing",
        stories[20].url,
        "/api/stories",
        f"/api/stories?community={community.slug}",
        "/api/communities",
        "/api/themes",
        "/api/collections",
        "/sitemap.xml",
        "/sitemap-pages.xml",
        "/dialogues/",
        f"/dialogues/{dialogue.slug}/",
        f"/communities/{community.slug}/feed.xml",
        f"/themes/{housing.slug}/feed.xml",
        "/oai/?verb=ListRecords&metadataPrefix=oai_dc",
        f"/oai/?verb=ListIdentifiers&metadataPrefix=oai_dc&set=community:{community.slug}",
        f"/oai/?verb=ListIdentifiers&metadataPrefix=oai_dc&set=theme:{housing.slug}",
        # /sitemap-stories.xml reads a page of up to 50,000 stories by design: its paging is tested on its own.
    ]


def whole_table_scans(sql: str) -> list[str]:
    """The tables of the archive this query would read whole, by the database's own plan.

    An ordered scan of an index that stops at the query's LIMIT (no sort in the plan) reads only the rows it returns:
    a first page, newest first, is read that way, and is allowed."""
    limited = re.search(r"\bLIMIT \d+\s*$", sql) is not None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # An index scan with no condition reads the whole index.
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            nodes = []

            def walk(node):
                nodes.append(node)
                for child in node.get("Plans", []):
                    walk(child)

            walk(plan[0]["Plan"])
            stops_at_limit = limited and not any(node["Node Type"] in ("Sort", "Incremental Sort") for node in nodes)
            # A partial index holds only the rows its condition names (the few stories on request): reading it whole
            # reads those rows, not the archive.
            cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL")
            partial = {name for (name,) in cursor.fetchall()}
            return [
                f"{node['Node Type']} on {node['Relation Name']}"
                for node in nodes
                if node.get("Relation Name") in ARCHIVE_TABLES
                and (
                    node["Node Type"] == "Seq Scan"
                    or (
                        node["Node Type"] in ("Index Scan", "Index Only Scan")
                        and "Index Cond" not in node
                        and node.get("Index Name") not in partial
                        and not stops_at_limit
                    )
                )
            ]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        steps = [row[-1] for row in cursor.fetchall()]
        stops_at_limit = limited and not any("TEMP B-TREE" in step for step in steps)
        return [
            step
            for step in steps
            if step.startswith("SCAN ")
            and step.split()[1] in ARCHIVE_TABLES
            and not (stops_at_limit and " USING " in step and "INDEX" in step)
        ]


@pytest.fixture
def statistics_of_a_large_archive(archive):
    """The planner measures the archive's tables (ANALYZE), then is told they are 2,000 times larger, as an archive
    of 100,000 stories would be: on a few dozen rows any plan is cheap, and a planner may read a small table whole."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
            # The planner reads a table's size as its rows per page times its pages now: more rows on each page.
            cursor.execute(
                "UPDATE pg_class SET reltuples = reltuples * 2000 WHERE relkind IN ('r', 'i') AND oid IN ("
                "SELECT oid FROM pg_class WHERE relname = ANY(%s) UNION "
                "SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relname = ANY(%s)))",
                [sorted(ARCHIVE_TABLES), sorted(ARCHIVE_TABLES)],
            )
            return
        cursor.execute("ANALYZE")
        cursor.execute("SELECT tbl, idx, stat FROM sqlite_stat1")
        for table, index, stat in cursor.fetchall():
            if table in ARCHIVE_TABLES:
                rows, *per_key = stat.split()
                scaled = " ".join([str(int(rows) * 2000), *per_key])
                cursor.execute("UPDATE sqlite_stat1 SET stat = %s WHERE tbl = %s AND idx IS %s", [scaled, table, index])
        # Tables with no rows here hold a few in an archive (view restrictions): measured as such.
        cursor.execute("SELECT tbl FROM sqlite_stat1")
        measured = {row[0] for row in cursor.fetchall()}
        for table in set(connection.introspection.table_names()) - measured - ARCHIVE_TABLES - CURATED_TABLES:
            cursor.execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, NULL, '10')", [table])
        cursor.execute("ANALYZE sqlite_master")


def test_no_public_listing_reads_the_whole_archive(client, archive, statistics_of_a_large_archive):
    with CaptureQueriesContext(connection) as queries:
        for url in public_listings(archive):
            assert client.get(url).status_code == 200, url

    selects = [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) > 40
    scans = {}
    with transaction.atomic():
        for sql in selects:
            found = whole_table_scans(sql)
            if found:
                scans[sql[:200] + " ... " + sql[-200:]] = found
    assert scans == {}, "\n".join(f"{found}: {sql}" for sql, found in scans.items())


def test_control_the_plan_check_sees_a_listing_that_evaluates_the_rule_over_every_story(archive):
    """The same check, on the query the listings used to run: the rule evaluated for every story, newest first."""
    query = StoryPage.objects.visible_to_public().order_by("-first_published_at")[:20]
    with CaptureQueriesContext(connection) as queries:
        list(query)

    with transaction.atomic():
        assert whole_table_scans(queries.captured_queries[-1]["sql"])


def test_the_sitemap_is_an_index_of_pages_each_within_the_limit(client, archive, monkeypatch):
    _community, _housing, stories = archive
    monkeypatch.setattr("stories.sitemaps.StoriesSitemap.limit", 10)
    stories[30].unpublish()

    index = client.get("/sitemap.xml").content.decode()
    story_pages = [unescape(loc) for loc in re.findall(r"<loc>([^<]*sitemap-stories[^<]*)</loc>", index)]
    assert len(story_pages) == 5  # 44 public stories, ten to a page (the control: one page would hold all 44)

    listed = []
    for address in story_pages:
        locations = re.findall(
            r"<loc>([^<]+)</loc>", client.get(address.removeprefix("http://testserver")).content.decode()
        )
        assert len(locations) <= 10
        listed += locations
    assert sorted(listed) == sorted(f"http://localhost{story.url}" for story in stories if story.pk != stories[30].pk)


def test_the_command_stores_the_answer_after_a_bulk_load(archive):
    from django.core.management import call_command

    PublicStory.objects.all().delete()  # as after rows written past the models
    assert not listed_ids() and "Home 00" not in public_stories_listed(size=100).stories.__repr__()

    call_command("store_public_answer")

    assert listed_ids() == allowed_ids()


def keyset_range(query) -> str:
    """The conditions by which the database's plan bounds its index for this query, as one string."""
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            found, nodes = [], [plan[0]["Plan"]]
            while nodes:
                node = nodes.pop()
                found.append(node.get("Index Cond", ""))
                nodes += node.get("Plans", [])
            return " ".join(found)
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(row[-1] for row in cursor.fetchall() if row[-1].startswith("SEARCH "))


def deep_page_query(rows, make_condition):
    """The query of a listing's page older than its 30th story, the place compared by `make_condition`."""
    published_at, story_id = rows.order_by("-published_at", "-story_id").values_list("published_at", "story_id")[30]
    page = rows.filter(make_condition(Tuple(F("published_at"), F("story_id")), (published_at, story_id)))
    return page.order_by("-published_at", "-story_id").values_list("published_at", "story_id")[:21].query


def test_a_deep_page_among_stories_published_at_once_is_one_range_of_the_index(archive, statistics_of_a_large_archive):
    """An import publishes thousands of stories at the same instant: the place in a theme's list bounds its index by
    time and id together, so a page deep among them does not read every story of that instant before its own."""
    _community, housing, _stories = archive
    PublicStoryTheme.objects.update(published_at=timezone.now())
    rows = PublicStoryTheme.objects.filter(theme=housing)

    with transaction.atomic():
        for condition in (RowLessThan, RowGreaterThan):
            bounds = keyset_range(deep_page_query(rows, condition))
            assert "story_id" in bounds, bounds


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL compares rows natively whoever writes them")
def test_control_the_range_check_sees_a_place_written_out_as_ors(archive, statistics_of_a_large_archive):
    """Django writes a row comparison out as `a < x OR (a = x AND b < y)` on SQLite: a range on time alone."""
    _community, housing, _stories = archive
    PublicStoryTheme.objects.update(published_at=timezone.now())

    with transaction.atomic():
        bounds = keyset_range(deep_page_query(PublicStoryTheme.objects.filter(theme=housing), TupleLessThan))
    assert "story_id" not in bounds, bounds
