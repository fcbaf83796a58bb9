"""Open data: each table as CSV and all of them as a Frictionless Data Package, suppressed as on the page, checked
with the frictionless validator."""

import csv
import io
import json
import zipfile

import frictionless

from search.services import search_index_rebuild
from stories.models import Community

from .conftest import TRANSPORT

FEWER = "fewer than 5"
TABLES = ("theme-by-generation", "theme-by-community", "generation-by-community", "language", "kind", "quarter")


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_each_table_downloads_as_csv_with_its_totals_and_small_figures_suppressed(client, archive):
    response = client.get("/insights/quarter.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="quarter.csv"' in response["Content-Disposition"]
    rows = rows_of(response)
    assert [(r["quarter"], r["stories"], r["hours"]) for r in rows] == [
        ("2024-Q4", FEWER, ""),
        ("2025-Q1", "6", "3.0"),
        ("2025-Q2", FEWER, ""),
        ("all", "13", "8.0"),
    ]
    crossed = rows_of(client.get("/insights/theme-by-community.csv"))
    assert set(crossed[0]) == {"theme", "theme_name", "community", "community_name", "stories", "hours"}
    totals = {(r["theme"], r["community"]): r["stories"] for r in crossed}
    assert totals[("all", "all")] == "13"
    assert totals[("humane-housing", "all")] == "8"
    assert totals[("humane-housing", "cedar-flats")] == FEWER


def test_no_csv_gives_a_figure_under_5(client, archive):
    for name in TABLES:
        for row in rows_of(client.get(f"/insights/{name}.csv")):
            assert row["stories"] == FEWER or int(row["stories"]) >= 5, (name, row)


def test_downloads_follow_the_filters(client, archive):
    rows = rows_of(client.get("/insights/kind.csv", {"theme": TRANSPORT}))
    assert rows == [
        {"kind": "audio", "kind_name": "Audio", "stories": "5", "hours": "5.0"},
        {"kind": "all", "kind_name": "All stories", "stories": "5", "hours": "5.0"},
    ]


def test_an_unknown_table_is_not_found(client, archive):
    assert client.get("/insights/birth-years.csv").status_code == 404


def test_the_data_package_validates_with_frictionless(client, archive, tmp_path):
    response = client.get("/insights/insights.zip", {"recorded_from": "2024-01-01"})
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        bundle.extractall(tmp_path)
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert "recorded from 2024-01-01" in descriptor["description"]
    assert {resource["name"] for resource in descriptor["resources"]} == {*TABLES, "intergenerational"}
    report = frictionless.validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = frictionless.Package(tmp_path / "datapackage.json")
    rows = package.get_resource("quarter").read_rows()
    # "fewer than 5" reads as a missing value, never as a number.
    assert [(row["quarter"], row["stories"]) for row in rows] == [
        ("2024-Q4", None),
        ("2025-Q1", 6),
        ("2025-Q2", None),
        ("all", 13),
    ]


def test_a_control_a_package_with_a_broken_table_does_not_validate(client, archive, tmp_path):
    """The validator can fail: a CSV whose stories are not counts is refused."""
    with zipfile.ZipFile(io.BytesIO(client.get("/insights/insights.zip").content)) as bundle:
        bundle.extractall(tmp_path)
    quarter = tmp_path / "quarter.csv"
    quarter.write_text(quarter.read_text().replace(",6,", ",six,"))
    assert not frictionless.validate(tmp_path / "datapackage.json").valid


def test_datapackage_json_describes_each_table_at_its_address_with_the_same_filters(client, archive):
    descriptor = client.get("/insights/datapackage.json", {"theme": TRANSPORT}).json()
    kind = next(resource for resource in descriptor["resources"] if resource["name"] == "kind")
    assert kind["path"] == "http://testserver/insights/kind.csv?theme=reliable-transportation"
    assert [field["name"] for field in kind["schema"]["fields"]] == ["kind", "kind_name", "stories", "hours"]
    assert kind["schema"]["missingValues"] == ["", FEWER]
    report = frictionless.Package.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["type", "note"])


def test_a_name_a_spreadsheet_would_run_as_a_formula_downloads_as_text(client, archive):
    """CSV injection: a community named like a formula opens in a spreadsheet as the words it is, in the CSV and in the
    data package alike."""
    formula = '=HYPERLINK("http://127.0.0.1/x","Harbor Point")'
    before = rows_of(client.get("/insights/generation-by-community.csv"))
    assert "Harbor Point" in {row["community_name"] for row in before}  # control: the name is there to rename
    Community.objects.filter(name="Harbor Point").update(name=formula)
    search_index_rebuild()

    for response in (
        client.get("/insights/generation-by-community.csv"),
        zipfile.ZipFile(io.BytesIO(client.get("/insights/insights.zip").content)),
    ):
        if isinstance(response, zipfile.ZipFile):
            text = response.read("generation-by-community.csv").decode()
        else:
            text = response.content.decode()
        names = {row["community_name"] for row in csv.DictReader(io.StringIO(text))}
        assert "'" + formula in names
        assert not any(name.startswith(("=", "+", "-", "@")) for name in names), names
