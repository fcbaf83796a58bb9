"""A real harvester (sickle) talking to the archive through Django's test client, every answer checked against the
OAI-PMH schema on the way: a requests transport adapter stands where the network would be."""

from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from sickle import Sickle

from .schema import assert_valid

ENDPOINT = "http://testserver/oai/"


class TestClientAdapter(BaseAdapter):
    """Sends each request to the Django test client and hands back its answer as requests would."""

    def __init__(self, client):
        super().__init__()
        self.client = client
        self.bodies: list[bytes] = []

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        if request.method == "POST":
            answer = self.client.post(
                url.path, data=request.body or "", content_type="application/x-www-form-urlencoded"
            )
        else:
            answer = self.client.generic(request.method, url.path, QUERY_STRING=url.query)
        body = answer.content
        self.bodies.append(body)
        if answer.status_code == 200:
            assert_valid(body)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(answer.headers)
        response._content = body
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self):
        pass


def harvester(client, monkeypatch, *, http_method: str = "GET") -> tuple[Sickle, TestClientAdapter]:
    """sickle, as a library's harvester runs it, against the archive; and the adapter, which keeps every body."""
    import sickle.app

    session = requests.Session()
    adapter = TestClientAdapter(client)
    session.mount("http://testserver/", adapter)
    monkeypatch.setattr(sickle.app, "requests", session)
    return Sickle(ENDPOINT, http_method=http_method), adapter
