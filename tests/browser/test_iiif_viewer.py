"""A story's IIIF manifest opened in an off-the-shelf IIIF A/V viewer (Samvera Clover's web component, from npm) in
real Chromium: the viewer shows the story's title and plays the access copy the manifest paints on its Canvas.

The viewer is installed by `npm ci` in tests/browser/iiif_viewer/; without it the test is skipped and says so. The
viewer's page is handed to the browser under the archive's own address (no file is added to the site), so the
manifest, the recording and the captions are fetched as any viewer on the archive's origin would."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWER = Path(__file__).resolve().parent / "iiif_viewer" / "node_modules" / "@samvera" / "clover-iiif" / "dist"
BUNDLE = VIEWER / "web-components" / "index.umd.js"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>IIIF viewer</title>
<script src="/_viewer/clover.js"></script></head>
<body><clover-viewer id="{manifest}"></clover-viewer></body></html>"""


@pytest.fixture
def viewer_page(browser_page, live_server):
    if not BUNDLE.exists():
        pytest.skip("the IIIF viewer is not installed: run `npm ci` in tests/browser/iiif_viewer")
    page = browser_page

    def open_manifest(path: str):
        manifest = live_server.url + path
        page.route(
            f"{live_server.url}/_viewer/page.html",
            lambda route: route.fulfill(status=200, content_type="text/html", body=PAGE.format(manifest=manifest)),
        )
        page.route(
            f"{live_server.url}/_viewer/clover.js",
            lambda route: route.fulfill(status=200, content_type="text/javascript", path=str(BUNDLE)),
        )
        page.goto("/_viewer/page.html")
        return page

    return open_manifest


def test_a_iiif_viewer_plays_a_storys_manifest(viewer_page, garden_story):
    page = viewer_page(f"/stories/{garden_story.pk}/manifest.json")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.get_by_text("Grandmother's garden").first.wait_for()
    media = page.locator("video, audio").first
    media.wait_for(state="attached")
    source = media.evaluate("element => element.currentSrc || element.src || element.querySelector('source')?.src")
    assert f"/recordings/{garden_story.recording_id}/access" in source
    duration = media.evaluate(
        "element => new Promise(done => element.readyState >= 1 ? done(element.duration)"
        " : element.addEventListener('loadedmetadata', () => done(element.duration)))"
    )
    assert 5 < duration < 6, "the viewer loaded the access copy"
    assert errors == []
