"""/api/docs in Chromium: Swagger UI from the archive's own static files, under the site's Content-Security-Policy,
with no request to any other site."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_api_docs_work_offline_under_the_policy(browser_page, live_server):
    page = browser_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto("/api/docs")
    page.locator(".opblock-summary-path", has_text="/api/dialogues").first.wait_for()

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert any(url.endswith("/api/openapi.json") for url in requested), "control: the page asked for the schema"
    elsewhere = [url for url in requested if not url.startswith((live_server.url, "data:", "blob:"))]
    assert elsewhere == []
    assert page.evaluate("window.__violations") == []
