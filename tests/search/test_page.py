"""The public /search/ page: results with moments, facets with counts, removable filters, paging, no dead ends."""

import re

from search.services import search_index_rebuild
from stories.factories import public_story


def test_results_show_moments_linking_to_the_time_in_the_story(client, archive):
    page = client.get("/search/", {"q": "housing"}).content.decode()
    story_url = archive["housing"].url
    assert f'href="{story_url}?t=135"' in page
    assert "02:15" in page
    assert "safe <mark>housing</mark> after the flood" in page


def test_facet_sidebar_shows_counts_and_links_that_add_a_filter(client, archive):
    page = client.get("/search/").content.decode()
    assert re.search(
        r'href="\?theme=humane-housing"[^>]*>\s*<span>Humane housing</span>\s*<span class="search-facet__count">2', page
    )
    assert "Baby Boomers" in page
    assert "Spanish" in page


def test_an_active_filter_can_be_removed(client, archive):
    page = client.get("/search/?q=housing&theme=humane-housing&community=riverside").content.decode()
    assert 'aria-label="Remove Theme: Humane housing"' in page
    assert 'href="?q=housing&amp;community=riverside" aria-label="Remove Theme: Humane housing"' in page
    assert "1 story" in page


def test_pagination_links(client, archive):
    first = client.get("/search/", {"page_size": 2, "sort": "newest"}).content.decode()
    assert 'rel="next"' in first and "Page 1 of 2" in first
    second = client.get("/search/", {"page_size": 2, "sort": "newest", "page": 2}).content.decode()
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_no_results_suggests_which_filter_to_drop(client, archive):
    page = client.get("/search/?q=bus&community=eastside&language=en").content.decode()
    assert "No stories match" in page
    assert "Remove Community: Eastside" in page
    assert 'href="?q=bus&amp;language=en"' in page
    assert ">Remove Language: English</a>" not in page  # dropping it alone finds nothing


def test_bad_parameters_get_a_message_not_an_error_page(client, archive):
    response = client.get("/search/", {"page": "many"})
    assert response.status_code == 400
    assert "page must be a whole number" in response.content.decode()


def test_typed_html_is_shown_as_text(client, archive):
    page = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_a_transcript_with_markup_never_runs(client, archive):
    from .conftest import transcribe

    story = public_story(title="Markup", summary="Plain.")
    transcribe(story, [(3.0, 4.0, "<script>alert('apples')</script>")])
    search_index_rebuild()
    page = client.get("/search/", {"q": "apples"}).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;<mark>apples</mark>&#x27;)&lt;/script&gt;" in page


def test_long_and_broken_queries_answer(client, archive):
    assert client.get("/search/", {"q": "x" * 20000}).status_code == 200
    assert client.get("/search/", {"q": '"' * 5000}).status_code == 200
    assert client.get("/search/", {"q": 'AND OR NOT NEAR * " ^ : ( ) -'}).status_code == 200


def test_the_filters_button_counts_the_active_filters(client, archive):
    page = client.get("/search/?q=housing&theme=humane-housing&community=riverside").content.decode()
    assert re.search(r"<summary[^>]*>Filters <span[^>]*>\(2 active\)</span></summary>", page)
    assert re.search(r"<summary[^>]*>Filters</summary>", client.get("/search/").content.decode())


def test_a_second_value_in_one_facet_is_described_as_widening(client, archive):
    """Two themes ticked find stories with either theme, and the page says so rather than implying a narrowing."""
    one = client.get("/search/?theme=humane-housing").content.decode()
    two = client.get("/search/?theme=humane-housing&theme=reliable-transportation").content.decode()
    assert "any of the ticked theme values" in one
    assert "Choosing another adds its stories; it does not narrow." in two
    count = lambda page: int(re.search(r'search-results__count">(\d+) stor', page).group(1))  # noqa: E731
    assert count(two) > count(one)


def test_a_reversed_date_range_is_put_right_and_explained_with_the_filters_kept(client, archive):
    response = client.get("/search/", {"recorded_from": "2024-12-31", "recorded_to": "2024-01-01"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The dates were the wrong way round" in page
    assert "from 1 January 2024 until 31 December 2024" in page
    assert 'id="recorded-from" type="date" name="recorded_from" value="2024-01-01"' in page
    assert 'class="search-facet__list"' in page
    in_order = client.get("/search/", {"recorded_from": "2024-01-01", "recorded_to": "2024-12-31"}).content.decode()
    assert "The house on Elm Street" in page and "The house on Elm Street" in in_order
    assert "wrong way round" not in in_order
