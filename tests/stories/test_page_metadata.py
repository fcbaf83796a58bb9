"""What public pages tell link previews and search engines: OpenGraph and Twitter card tags, a canonical link, JSON-LD,
a title that names the archive once; and robots.txt and the favicon."""

import json
from html.parser import HTMLParser

import pytest

from stories.factories import CollectionEntryFactory, CollectionPageFactory, PersonFactory, public_story, theme
from stories.models import StoryPage, Visibility
from tests.listening.conftest import recording, transcribe

pytestmark = pytest.mark.django_db

ROOT = "http://localhost"  # the default Wagtail site's address in the tests


class Head(HTMLParser):
    """The parts of a page's <head> that describe it: <title>, meta tags, link rel=canonical and JSON-LD."""

    def __init__(self, html: str):
        super().__init__()
        self.title = ""
        self.meta: dict[str, list[str]] = {}
        self.canonical: list[str] = []
        self.json_ld: list[str] = []
        self.icons: list[str] = []
        self._in = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in = "title"
        elif tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta.setdefault(attrs.get("property") or attrs.get("name"), []).append(attrs.get("content", ""))
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])
        elif tag == "link" and attrs.get("rel") == "icon":
            self.icons.append(attrs["href"])
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in = "json_ld"
            self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag in ("title", "script"):
            self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "json_ld":
            self.json_ld[-1] += data

    @property
    def structured(self) -> dict:
        assert len(self.json_ld) == 1, f"{len(self.json_ld)} JSON-LD blocks"
        return json.loads(self.json_ld[0])

    def metadata_text(self) -> str:
        """Everything the page says about itself to machines, as one text."""
        values = [self.title, *self.canonical, *self.json_ld, *(v for vs in self.meta.values() for v in vs)]
        return "\n".join(values)


def head_of(client, url) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    return Head(response.content.decode())


@pytest.fixture
def archive():
    """A public story with a recording and transcript, a written one, a hidden one beside them, and a collection."""
    told = public_story(
        title="Grandmother's garden",
        summary="Rosa remembers the tomatoes.",
        people=[PersonFactory(display_name="Rosa", birth_year=1948)],
        themes=[theme("thriving-natural-world")],
        community__name="Riverside",
        recording=recording(),
    )
    told.save()
    transcribe(told.recording, [(0.0, 4.0, "My grandmother kept a vegetable garden."), (4.0, 8.0, "We grew beans.")])
    written = public_story(title="Letters home", summary="A letter.", community=told.community)
    hidden = public_story(
        title="The flood we never spoke of",
        summary="Kept back.",
        themes=[theme("thriving-natural-world")],
        community=told.community,
    )
    hidden.save()
    collection = CollectionPageFactory(title="Gardens", intro="<p>Stories of what grows.</p>")
    for n, story in enumerate((told, hidden)):
        CollectionEntryFactory(page=collection, story=story, sort_order=n)
    return {"told": told, "written": written, "hidden": hidden, "collection": collection}


def public_pages(archive) -> list[str]:
    told = archive["told"]
    return [
        "/",
        "/stories/",
        told.url,
        archive["written"].url,
        archive["collection"].url,
        told.community.get_absolute_url(),
        "/themes/thriving-natural-world/",
        "/communities/",
        "/themes/",
        "/collections/",
        "/search/?q=garden",
    ]


def test_every_public_page_has_preview_tags_a_canonical_link_and_json_ld(client, archive):
    for url in public_pages(archive):
        head = head_of(client, url)

        for name in ("og:title", "og:description", "og:url", "og:type", "twitter:card", "twitter:title"):
            assert len(head.meta.get(name, [])) == 1 and head.meta[name][0], f"{url}: {name}"
        assert len(head.canonical) == 1 and head.canonical[0].startswith(f"{ROOT}/"), url
        assert head.meta["og:url"] == head.canonical
        data = head.structured
        assert data["@context"] == "https://schema.org" and data["@type"], url
        assert head.icons == ["/static/favicon.svg"], url


def test_the_title_names_the_archive_once(client, archive):
    for url in public_pages(archive):
        title = head_of(client, url).title

        assert title.count("Story Archive") == 1, f"{url}: {title}"


def test_the_home_page_is_titled_after_the_archive_and_a_story_after_itself(client, archive):
    assert head_of(client, "/").title == "Story Archive"
    assert head_of(client, archive["told"].url).title == "Grandmother's garden · Story Archive"


def test_a_story_with_a_recording_is_an_audio_object_carrying_its_transcript(client, archive):
    told = archive["told"]

    head = head_of(client, f"{told.url}?t=2,4")

    data = head.structured
    assert head.canonical == [f"{ROOT}{told.url}"], "a clip's address is canonically its story's"
    assert data["@type"] == "AudioObject"
    assert data["name"] == "Grandmother's garden" and data["description"] == "Rosa remembers the tomatoes."
    assert data["transcript"] == "My grandmother kept a vegetable garden. We grew beans."
    assert data["contentUrl"] == f"{ROOT}/recordings/{told.recording_id}/access"
    assert data["embedUrl"] == f"{ROOT}/embed/stories/{told.pk}/"
    assert data["caption"]["contentUrl"] == f"{ROOT}{told.url}transcript.vtt"
    assert data["creator"] == [{"@type": "Person", "name": "Rosa"}]
    assert data["locationCreated"]["name"] == "Riverside"
    assert head.meta["og:title"] == ["Grandmother's garden"]
    assert head.meta["og:description"] == ["Rosa remembers the tomatoes."]


def test_a_video_story_is_a_video_object_whose_poster_is_its_preview_image(client):
    media = recording(video=True)
    media.poster = "posters/garden.jpg"
    media.save()
    story = public_story(title="The orchard on film", recording=media)

    head = head_of(client, story.url)

    poster = f"{ROOT}/recordings/{media.id}/poster"
    assert head.structured["@type"] == "VideoObject" and head.structured["thumbnailUrl"] == poster
    assert head.meta["og:image"] == [poster] and head.meta["twitter:image"] == [poster]
    assert head.meta["twitter:card"] == ["summary_large_image"]


def test_a_written_story_is_an_article(client, archive):
    data = head_of(client, archive["written"].url).structured

    assert data["@type"] == "Article" and data["name"] == "Letters home"


def test_negative_json_ld_cannot_end_its_script_element(client):
    story = public_story(title="</script><script>alert(1)</script>", summary="Beans & tomatoes")

    html = client.get(story.url).content.decode()
    head = Head(html)

    assert "</script><script>" not in html
    assert head.structured["name"] == "</script><script>alert(1)</script>"
    assert head.structured["description"] == "Beans & tomatoes"


def test_negative_no_public_page_names_a_hidden_story_in_its_metadata(client, archive):
    hidden = archive["hidden"]
    # Control: while it is public, its own page names it, so the check below can see a title where it is.
    assert hidden.title in head_of(client, hidden.url).metadata_text()
    shown_on_collection = head_of(client, archive["collection"].url)

    hidden.visibility = Visibility.PRIVATE
    hidden.save_revision().publish()
    assert not StoryPage.objects.visible_to_public().filter(pk=hidden.pk).exists()

    for url in public_pages(archive):
        assert hidden.title not in head_of(client, url).metadata_text(), url
    response = client.get(hidden.url)
    assert response.status_code == 404 and hidden.title not in response.content.decode()
    assert head_of(client, archive["collection"].url).json_ld == shown_on_collection.json_ld


def test_robots_txt_allows_the_public_site_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *" and "Allow: /" in lines
    for private in ("/admin/", "/django-admin/", "/share/", "/my-story/", "/embed/"):
        assert f"Disallow: {private}" in lines
    assert "Disallow: /" not in lines and "Disallow: /stories/" not in lines
    assert f"Sitemap: {ROOT}/sitemap.xml" in lines
    assert b"<sitemapindex" in client.get("/sitemap.xml").content


def test_the_favicon_exists(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file's first bytes


def test_a_story_s_cover_picture_is_its_preview_image_and_a_lost_picture_file_costs_only_the_preview(client):
    from wagtail_factories import ImageFactory

    cover = ImageFactory(title="The garden gate")
    story = public_story(title="The garden gate", cover_image=cover)

    image = head_of(client, story.url).meta["og:image"][0]
    assert image.startswith(f"{ROOT}/media/images/") and head_of(client, story.url).structured["image"] == image

    cover.renditions.all().delete()
    cover.file.storage.delete(cover.file.name)
    head = head_of(client, story.url)
    assert "og:image" not in head.meta and head.meta["twitter:card"] == ["summary"]
