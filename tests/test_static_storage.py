"""Production's static files: pages link collectstatic's hashed names, which nginx lets browsers keep for a year; a
file the manifest lacks is linked by its plain name rather than failing the page (storyarchive/staticfiles.py)."""

import json

import pytest

from storyarchive.staticfiles import HashedStaticFilesStorage


def storage(folder, paths=None) -> HashedStaticFilesStorage:
    if paths is not None:
        (folder / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "x"}))
    return HashedStaticFilesStorage(location=folder, base_url="/static/")


def test_a_collected_file_is_linked_by_its_hashed_name(tmp_path):
    collected = storage(tmp_path, {"css/archive.css": "css/archive.4b3b1f7d4e87.css"})

    assert collected.url("css/archive.css") == "/static/css/archive.4b3b1f7d4e87.css"


def test_without_collectstatic_a_file_is_linked_by_its_plain_name_and_logged_once(tmp_path, caplog):
    never_collected = storage(tmp_path)

    assert never_collected.url("css/archive.css") == "/static/css/archive.css"
    assert never_collected.url("css/archive.css") == "/static/css/archive.css"
    assert [r.getMessage() for r in caplog.records if r.name == "storyarchive.staticfiles"] == [
        "static file css/archive.css is not in collectstatic's manifest: linked by its plain name"
    ]


def test_a_file_added_since_collectstatic_is_linked_by_its_plain_name(tmp_path):
    older = storage(tmp_path, {"css/archive.css": "css/archive.4b3b1f7d4e87.css"})

    assert older.url("js/search.js") == "/static/js/search.js"
    assert older.url("css/archive.css") == "/static/css/archive.4b3b1f7d4e87.css"


def test_a_name_that_is_no_static_file_is_still_an_error(tmp_path):
    """As Django has it; WhiteNoise asks about names it made up and counts on the error."""
    with pytest.raises(ValueError):
        storage(tmp_path, {}).url("css/no-such-file.css")
