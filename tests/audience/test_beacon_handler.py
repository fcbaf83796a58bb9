"""The beacon's own handler in front of Django (storyarchive/wsgi.py): the same answers as through Django's whole
stack, with the security headers, and everything that is not a report left to Django."""

import json
import uuid

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import RequestFactory

from audience import playable
from audience.beacon import beacon_in_front
from tests.servers import redis_answers, redis_url

from .conftest import stored_figures


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    def json(self):
        return json.loads(self.body)


def through_wsgi(application, method: str, path: str, body=None, **headers) -> Answer:
    """Call a WSGI application as gunicorn does, with the environ a browser's request would make."""
    factory = RequestFactory()
    if method == "POST":
        data = body if isinstance(body, str) else json.dumps(body)
        headers.setdefault("HTTP_SEC_FETCH_SITE", "same-origin")
        request = factory.post(path, data=data, content_type="text/plain;charset=UTF-8", **headers)
    else:
        request = factory.generic(method, path, **headers)
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started.update(status=status, headers=response_headers)

    # As Django's test client does: the test's own database connection (its transaction) outlives the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(request.environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return Answer(started["status"], started["headers"], body)


@pytest.fixture
def front():
    return beacon_in_front(get_wsgi_application())


def report(heard, **fields):
    return {"story": heard.pk, "stretches": [0], "play": True} | fields


def test_a_report_through_the_beacons_handler_is_counted_and_sets_no_cookie(front, heard_story):
    answer = through_wsgi(front, "POST", "/listened", report(heard_story), HTTP_COOKIE="sessionid=a-visitors-session")
    assert answer.status_code == 202
    assert answer.body == b""
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers
    assert stored_figures(heard_story.pk) == (1, 1, 1)


def test_the_beacons_handler_sends_the_security_headers_every_answer_has(front, heard_story):
    answer = through_wsgi(front, "POST", "/listened", report(heard_story))
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("case", "fields", "headers", "status", "says"),
    [
        ("an unknown story", {"story": 10**9}, {}, 404, "No story with a recording here."),
        ("a stretch past the end", {"stretches": [5]}, {}, 400, "Stretch 5 is past the end"),
        ("another site", {}, {"HTTP_SEC_FETCH_SITE": "cross-site"}, 403, "this archive's own pages"),
        ("another origin", {}, {"HTTP_ORIGIN": "https://elsewhere"}, 403, "this archive's own pages"),
        ("not a report", {"listener": "abc"}, {}, 400, "wrong shape"),
    ],
)
def test_the_beacons_handler_refuses_what_django_refuses(
    front, client, heard_story, case, fields, headers, status, says
):
    answer = through_wsgi(front, "POST", "/listened", report(heard_story, **fields), **headers)
    assert answer.status_code == status, case
    assert says in answer.json()["detail"], case
    assert answer.headers["Cache-Control"] == "no-store"
    through_django = client.post(
        "/listened", json.dumps(report(heard_story, **fields)), content_type="text/plain",
        **{"HTTP_SEC_FETCH_SITE": "same-origin", **headers},
    )  # fmt: skip
    assert (through_django.status_code, through_django.json()) == (answer.status_code, answer.json()), case
    assert stored_figures() == (0, 0, 0), case


def test_the_beacons_handler_stores_nothing_under_do_not_track(front, heard_story):
    assert through_wsgi(front, "POST", "/listened", report(heard_story), HTTP_DNT="1").status_code == 204
    assert stored_figures() == (0, 0, 0)


def test_the_beacons_handler_refuses_a_flood(front, heard_story, settings):
    settings.AUDIENCE_BEACON_LIMIT_PER_MINUTE = 2
    statuses = [
        through_wsgi(front, "POST", "/listened", report(heard_story), REMOTE_ADDR="198.51.100.9").status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]


def test_the_beacons_handler_redirects_plain_http_where_the_site_is_https_only(heard_story, settings):
    settings.SECURE_SSL_REDIRECT = True
    front = beacon_in_front(get_wsgi_application())  # the middleware reads its settings when it is made
    answer = through_wsgi(front, "POST", "/listened", report(heard_story))
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://testserver/listened"
    assert stored_figures() == (0, 0, 0)


def test_everything_else_is_left_to_django(front, heard_story):
    assert through_wsgi(front, "GET", "/listened").status_code == 405
    robots = through_wsgi(front, "GET", "/robots.txt")
    assert robots.status_code == 200 and b"Sitemap" in robots.body


@pytest.fixture
def shared_redis(settings):
    """The default cache on the Redis server, under a prefix of this test's own."""
    if not redis_answers():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url(0),
            "KEY_PREFIX": f"beacon-test-{uuid.uuid4().hex}",
        }
    }
    playable.forget_all()
    yield
    from django.core.cache import cache

    cache.delete_many([playable.VERSION_KEY])
    playable.forget_all()


def test_on_redis_the_flood_limit_and_the_held_answer_follow_the_shared_cache(
    front, heard_story, settings, shared_redis
):
    """One round trip a report on Redis (count and version together): the limit holds, and a story hidden is
    refused at once."""
    settings.AUDIENCE_BEACON_LIMIT_PER_MINUTE = 3
    statuses = [
        through_wsgi(front, "POST", "/listened", report(heard_story), REMOTE_ADDR="198.51.100.10").status_code
        for _ in range(4)
    ]
    assert statuses == [202, 202, 202, 429]
    heard_story.unpublish()
    hidden = through_wsgi(front, "POST", "/listened", report(heard_story), REMOTE_ADDR="198.51.100.11")
    assert hidden.status_code == 404
    assert stored_figures(heard_story.pk) == (0, 0, 0)


def test_on_redis_another_process_hiding_a_story_is_followed(front, heard_story, shared_redis):
    """Another process moves the shared version on: this process drops what it held and reads again."""
    assert through_wsgi(front, "POST", "/listened", report(heard_story), REMOTE_ADDR="198.51.100.12").status_code == 202
    from stories.models import PublicStory

    PublicStory.objects.filter(story=heard_story).update(is_public=False)  # written by the other process
    held = through_wsgi(front, "POST", "/listened", report(heard_story), REMOTE_ADDR="198.51.100.12")
    assert held.status_code == 202, "control: this process still holds its answer"
    playable.forget([])  # what the other process's hiding does to the shared version
    refused = through_wsgi(front, "POST", "/listened", report(heard_story), REMOTE_ADDR="198.51.100.12")
    assert refused.status_code == 404
