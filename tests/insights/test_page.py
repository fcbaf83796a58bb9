"""/insights/: charts drawn as SVG with a table and a sentence beside each, the search's filters, small cells
suppressed, and the page linked from every page's navigation."""

import re

from .conftest import TRANSPORT

FEWER = "fewer than 5"


def test_the_page_draws_each_table_as_an_svg_chart_with_its_data_and_a_summary(client, archive):
    response = client.get("/insights/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("theme-by-generation", "theme-by-community", "generation-by-community", "language", "kind"):
        section = html.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]
        assert "<svg" in section and 'role="img"' in section, name
        assert "<table" in section, name
        assert re.search(r'class="insights-summary"[^>]*>[^<]{20,}</p>', section), name
        assert f'href="/insights/{name}.csv"' in section
    assert 'data-figure="stories">13<' in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_no_figure_under_5_is_shown(client, archive):
    html = client.get("/insights/").content.decode()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells, "the tables have cells"
    assert FEWER in cells
    assert not [cell for cell in cells if cell.strip().isdigit() and int(cell) < 5]


def test_the_page_is_narrowed_by_the_search_filters(client, archive):
    html = client.get("/insights/", {"theme": TRANSPORT, "q": "Transport"}).content.decode()
    assert 'data-figure="stories">5<' in html
    assert "Remove Theme: Reliable transportation" in html
    assert "theme=reliable-transportation" in html.split('id="language"', 1)[1]


def test_a_bad_date_is_a_clear_message(client, archive):
    response = client.get("/insights/", {"recorded_from": "soon"})
    assert response.status_code == 400
    assert "recorded_from must be a date written YYYY-MM-DD" in response.content.decode()


def test_a_search_address_with_its_page_and_order_opens_the_insights_of_its_filters(client, archive):
    """/insights/ counts every match: a search's page, order or page size in the address (even one search would
    refuse) neither narrows the figures nor refuses the page."""
    paging = {"page": "abc", "sort": "shuffled", "page_size": "0"}
    assert client.get("/search/", {"theme": TRANSPORT, **paging}).status_code == 400  # control: search reads them
    html = client.get("/insights/", {"theme": TRANSPORT, **paging}).content.decode()
    assert 'data-figure="stories">5<' in html
    assert client.get("/insights/words/", {"theme": TRANSPORT, **paging}).status_code == 200
    assert client.get("/insights/kind.csv", {"theme": TRANSPORT, **paging}).status_code == 200


def test_dates_the_wrong_way_round_are_read_the_right_way_round(client, archive):
    html = client.get("/insights/", {"recorded_from": "2025-12-31", "recorded_to": "2025-01-01"}).content.decode()
    assert "The dates were the wrong way round" in html
    assert 'data-figure="stories">11<' in html


def test_every_page_links_to_the_insights(client, archive):
    assert 'href="/insights/"' in client.get("/").content.decode()


def test_the_filter_form_ticks_what_is_chosen(client, archive):
    html = client.get("/insights/", {"theme": TRANSPORT, "generation": "gen-z"}).content.decode()
    assert re.search(r'name="theme" value="reliable-transportation" checked', html)
    assert re.search(r'name="generation" value="gen-z" checked', html)
    assert re.search(r'name="theme" value="humane-housing">', html)
