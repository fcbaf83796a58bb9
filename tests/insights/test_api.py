"""GET /api/insights: the figures as JSON with the search's parameters, suppressed; the API's one error shape for a
filter value the archive does not have; and a check, over an archive larger than a page of search results, that no
story the visibility rule hides is ever counted."""

import io
import re
import zipfile
from collections import Counter

import pytest
from django.utils import timezone

from search.services import search_index_rebuild
from stories.factories import PersonFactory, public_story, theme
from stories.models import Consent, StoryPage

from .conftest import HOUSING, TRANSPORT

FEWER = "fewer than 5"


def table(answer: dict, name: str) -> dict:
    return next(t for t in answer["tables"] if t["name"] == name)


def shown_numbers(answer: dict) -> list[int]:
    cells = [answer["stories"], answer["intergenerational"]]
    for t in answer["tables"]:
        cells += [t["total"], *t["row_totals"], *t["column_totals"], *(c for row in t["cells"] for c in row)]
    return [cell["stories"] for cell in cells if cell["stories"] is not None]


def test_the_figures_as_json_with_small_cells_suppressed(client, archive):
    answer = client.get("/api/insights").json()
    assert answer["stories"] == {"stories": 13, "hours": 8.0, "suppressed": False, "shown": "13"}
    assert answer["intergenerational"]["stories"] == 6
    assert answer["intergenerational_share"] == round(6 / 13, 3)
    quarters = table(answer, "quarter")
    assert [v["value"] for v in quarters["row_values"]] == ["2024-Q4", "2025-Q1", "2025-Q2"]
    # 2 stories in 2024-Q4 are fewer than 5; the total is shown, so the smallest other quarter (5) is held back too.
    assert [c["shown"] for c in quarters["row_totals"]] == [FEWER, "6", FEWER]
    assert quarters["row_totals"][0] == {"stories": None, "hours": None, "suppressed": True, "shown": FEWER}
    themes = table(answer, "theme-by-generation")
    assert [v["label"] for v in themes["row_values"]] == ["Humane housing", "Reliable transportation"]
    assert [v["value"] for v in themes["column_values"]] == ["boomers", "gen-z"]
    assert [c["stories"] for c in themes["row_totals"]] == [8, 5]
    assert [c["stories"] for c in themes["column_totals"]] == [8, 11]
    # Transport has no boomer (0, fewer than 5): with both totals shown, each line gives up a second cell.
    assert all(cell["suppressed"] for row in themes["cells"] for cell in row)
    assert not [n for n in shown_numbers(answer) if n < 5], "a figure under 5 stories is given"


def test_filters_narrow_the_figures(client, archive):
    answer = client.get("/api/insights", {"theme": TRANSPORT, "community": "harbor-point"}).json()
    assert answer["stories"]["stories"] == 5
    assert answer["stories"]["hours"] == 5.0
    fewer = client.get("/api/insights", {"language": "es"}).json()
    assert fewer["stories"] == {"stories": None, "hours": None, "suppressed": True, "shown": FEWER}
    assert fewer["intergenerational_share"] is None
    assert client.get("/api/insights", {"q": "Transport"}).json()["stories"]["stories"] == 5


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"theme": "no-such-theme"}, "theme"),
        ({"community": "atlantis"}, "community"),
        ({"generation": "gen-omega"}, "generation"),
        ({"kind": "hologram"}, "kind"),
        ({"language": "xx-!!"}, "language"),
    ],
)
def test_an_unknown_filter_value_is_a_400_in_the_api_error_shape(client, archive, params, named):
    response = client.get("/api/insights", params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("The archive has no")
    assert body["errors"][0]["loc"] == ["query", named]
    assert body["errors"][0]["type"] == "unknown_value"
    # The same answer /api/search gives.
    assert client.get("/api/search", params).json()["detail"] == body["detail"]


def test_dates_the_wrong_way_round_and_bad_dates(client, archive):
    response = client.get("/api/insights", {"recorded_from": "2025-12-31", "recorded_to": "2025-01-01"})
    assert response.status_code == 400
    assert "recorded_from must not be after recorded_to" in response.json()["detail"]
    assert client.get("/api/insights", {"recorded_from": "yesterday"}).status_code == 422


def test_the_answer_names_no_story_person_or_birth_year(client, archive):
    text = client.get("/api/insights").content.decode()
    for story in StoryPage.objects.all():
        assert story.title not in text
        assert f'"id": {story.pk}' not in text
    assert "1948" not in text and "2001" not in text and "Storyteller" not in text


def test_the_openapi_schema_describes_the_insights(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/insights"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"q", "theme", "generation", "community", "language", "kind", "intergenerational"} <= names
    assert {"recorded_from", "recorded_to"} <= names
    assert not names & {"page", "page_size", "sort"}
    assert {"200", "400", "422"} <= set(operation["responses"])


# The visibility rule ----------------------------------------------------------------------------------------------


def figures_of(expected: set[int]) -> dict:
    """What the insights should count for these stories, read from the stories themselves."""
    by = {name: Counter() for name in ("theme", "generation", "community", "language", "kind")}
    crossed = Counter()
    stories = (
        StoryPage.objects.filter(pk__in=expected)
        .select_related("community", "recording")
        .prefetch_related("themes", "participants__person")
    )
    intergenerational = 0
    for story in stories:
        generations = [g.slug for g in story.generations]
        themes = [t.slug for t in story.themes.all()]
        by["community"][story.community.slug] += 1
        by["language"][story.language.split("-")[0]] += 1
        by["kind"][story.kind] += 1
        by["theme"].update(themes)
        by["generation"].update(generations)
        crossed.update((t, g) for t in themes for g in generations)
        intergenerational += len([g for g in generations if g != "not-shared"]) >= 2
    return {"total": len(expected), "by": by, "theme-by-generation": crossed, "intergenerational": intergenerational}


def assert_insights_follow_the_rule(client, expected: set[int], paths: dict[int, str]) -> None:
    """/api/insights counts exactly the stories the rule allows: its total, and every figure it gives (those under 5
    are suppressed and say only "fewer than 5") equals the count over `expected`, read from the stories; no figure
    given is under 5, and the page, the CSV and the data package say the same total. expected: the story ids the rule allows."""
    answer = client.get("/api/insights").json()
    wanted = figures_of(expected)
    total = answer["stories"]
    if len(expected) < 5:
        assert total["suppressed"] and total["stories"] is None, "a total under 5 stories is given"
    else:
        assert total["stories"] == len(expected), f"/api/insights counts {total['stories']}, the rule {len(expected)}"
    assert all(n >= 5 for n in shown_numbers(answer)), "/api/insights gives a figure under 5 stories"
    if answer["intergenerational"]["stories"] is not None:
        assert answer["intergenerational"]["stories"] == wanted["intergenerational"]
    for t in answer["tables"]:
        if t["name"] in ("theme-by-generation", "theme-by-community", "generation-by-community"):
            rows_are, columns_are = t["rows"], t["columns"]
            for value, cell in zip(t["row_values"], t["row_totals"], strict=True):
                if cell["stories"] is not None:
                    assert cell["stories"] == wanted["by"][rows_are][value["value"]], f"{t['name']} {value}"
            for value, cell in zip(t["column_values"], t["column_totals"], strict=True):
                if cell["stories"] is not None:
                    assert cell["stories"] == wanted["by"][columns_are][value["value"]], f"{t['name']} {value}"
            listed = {v["value"] for v in t["row_values"]}
            assert listed == {k for k, n in wanted["by"][rows_are].items() if n}, f"{t['name']} lists other values"
        if t["name"] == "theme-by-generation":
            for r, row in zip(t["row_values"], t["cells"], strict=True):
                for c, cell in zip(t["column_values"], row, strict=True):
                    if cell["stories"] is not None:
                        assert cell["stories"] == wanted["theme-by-generation"][(r["value"], c["value"])]
        if t["name"] in ("language", "kind"):
            for value, cell in zip(t["row_values"], t["row_totals"], strict=True):
                if cell["stories"] is not None:
                    assert cell["stories"] == wanted["by"][t["name"]][value["value"]], f"{t['name']} {value}"
            assert {v["value"] for v in t["row_values"]} == set(+wanted["by"][t["name"]])
    total_shown = str(len(expected)) if len(expected) >= 5 else FEWER
    csv_text = client.get("/insights/kind.csv").content.decode()
    assert csv_text.splitlines()[-1].split(",")[-2] == total_shown, "the CSV's total"
    page = client.get("/insights/").content.decode()
    assert re.search(r'data-figure="stories">([^<]*)<', page).group(1) == total_shown, "the insights page's total"
    # The data package: its descriptor lists the tables, and its table is the very CSV the page offers.
    descriptor = client.get("/insights/datapackage.json").json()
    assert {resource["name"] for resource in descriptor["resources"]} >= {"kind"}
    with zipfile.ZipFile(io.BytesIO(client.get("/insights/insights.zip").content)) as bundle:
        assert bundle.read("kind.csv").decode() == csv_text, "the data package's table and the CSV differ"


STORIES = 24  # more than one page of search results (20)


@pytest.fixture
def large_archive():
    stories = []
    for n in range(STORIES):
        people = [PersonFactory(birth_year=1948 if n % 2 else 2001)]
        if n % 4 == 0:
            people.append(PersonFactory(birth_year=1975))
        stories.append(
            public_story(
                title=f"Story {n}",
                people=people,
                themes=[theme(HOUSING if n % 3 else TRANSPORT)],
                community__name="Harbor Point" if n < 16 else "Cedar Flats",
                language="es" if n % 5 == 0 else "en",
            )
        )
    search_index_rebuild()
    return stories


def public_ids() -> set[int]:
    return set(StoryPage.objects.visible_to_public().values_list("pk", flat=True))


def test_insights_follow_the_rule_as_stories_are_hidden(client, large_archive):
    assert_insights_follow_the_rule(client, public_ids(), {})
    for story in large_archive[:3]:
        consent = Consent.objects.filter(story=story).first()
        consent.withdrawn_at = timezone.now()
        consent.save()
        assert_insights_follow_the_rule(client, public_ids(), {})
    assert len(public_ids()) == STORIES - 3


def test_control_the_check_fails_when_a_hidden_story_is_counted(client, large_archive):
    """A story left in the index after the rule hid it (a write that skipped the models) is caught."""
    StoryPage.objects.filter(pk=large_archive[0].pk).update(visibility="private")
    with pytest.raises(AssertionError, match="counts"):
        assert_insights_follow_the_rule(client, public_ids(), {})


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00"},
        {"q": '"' * 5000},
        {"q": "housing " * 2500},
        {"q": "<script>alert(1)</script>"},
        {"recorded_from": "9" * 40},
        {"recorded_to": "2025-02-30"},
        {"intergenerational": "maybe"},
        {"theme": ["humane-housing"] * 200},
        {"page": "9" * 40},
    ],
)
def test_hostile_parameters_get_a_clear_answer_never_an_error_page(client, archive, params):
    for address in ("/api/insights", "/insights/", "/insights/kind.csv", "/insights/datapackage.json"):
        response = client.get(address, params)
        assert response.status_code in (200, 400, 422), (address, params, response.status_code)
        if response["Content-Type"].startswith("text/html"):
            assert "<script>alert" not in response.content.decode()


def test_while_search_cannot_be_reached_every_insights_address_says_so_and_asks_to_retry(client, settings):
    from search.backends import _backend_for

    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    _backend_for.cache_clear()
    try:
        for address in ("/api/insights", "/insights/", "/insights/kind.csv", "/insights/insights.zip"):
            response = client.get(address)
            assert response.status_code == 503, address
            assert response["Retry-After"] == "60"
            assert "try again" in response.content.decode()
    finally:
        _backend_for.cache_clear()
