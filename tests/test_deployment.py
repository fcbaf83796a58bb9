"""The deployment in deploy/, run as shipped: Debian's nginx with deploy/nginx/storyarchive.conf in front of gunicorn,
started by deploy/systemd/storyarchive-web.service's own command (and the listening beacon's, by
storyarchive-beacon.service's, scheduled as it says) with the production settings of
deploy/storyarchive.env, on PostgreSQL and Redis, everything on loopback. The files are used as they are, with only
their ports, folders, database, secret and certificate put in, inside Debian's own nginx.conf. Every check goes
through nginx over TLS, as a browser's request would; a few also ask gunicorn directly, to see what Django said."""

import dataclasses
import datetime
import functools
import gzip
import http.client
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bench.site import BEACON_UNIT, DEPLOYED_SETTINGS, read_settings_file, scheduled_as
from stories.factories import CommunityFactory, public_story
from stories.media import recording_store
from stories.models import StorySubmission, Visibility, manage_token_digest
from stories.services import invite_create
from stories.share.views import FORM_OVERHEAD_BYTES
from tests.servers import (
    REDIS_DATABASES,
    free_port,
    gunicorn_command,
    in_ci,
    redis_answers,
    redis_url,
    start,
    stop,
    wait_until,
)
from transcription.services import recording_prepare_playback

pytestmark = [pytest.mark.deployment, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
SITE = ROOT / "deploy" / "nginx" / "storyarchive.conf"
WEB_UNIT = ROOT / "deploy" / "systemd" / "storyarchive-web.service"
MANAGE = ROOT / "deploy" / "manage.sh"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")
RECORDING = ROOT / "tests" / "fixtures" / "audio" / "garden.ogg"
HOST = "stories.example.org"
REDIS_DB = REDIS_DATABASES[0]
MANAGE_LIMIT = 3
# A load balancer in front of nginx, at an address the test's settings add to STORY_TRUSTED_PROXIES; and visitors who
# reach nginx directly. Linux answers on every 127.x.y.z address, so each can be a connection's own source.
BALANCER = "127.0.0.2"
VISITOR = "127.0.0.3"
OTHER_VISITOR = "127.0.0.4"
YEAR = "public, max-age=31536000, immutable"


def nginx_program() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def missing() -> str:
    """Why this machine cannot run the deployment, or nothing."""
    if nginx_program() is None:
        return "needs Debian's nginx: run scripts/services nginx"
    if not DEBIAN_NGINX_CONF.exists():
        return f"needs Debian's {DEBIAN_NGINX_CONF}: run scripts/services nginx"
    if shutil.which("openssl") is None:
        return "needs openssl for a certificate: run scripts/services nginx"
    if not redis_answers():
        return "needs Redis on 127.0.0.1:6379: run scripts/services redis"
    return ""


@dataclasses.dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def all(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []

    def __repr__(self) -> str:
        # What a failed assertion shows: the status, the headers and the start of the body.
        return f"Answer({self.status}, {dict(self.headers.items())!r}, {self.body[:300]!r})"


@dataclasses.dataclass
class Deployment:
    https_port: int
    http_port: int
    gunicorn_port: int
    tls: ssl.SSLContext
    var: Path
    static_root: Path
    beacon_port: int = 0
    web: subprocess.Popen | None = None
    beacon: subprocess.Popen | None = None

    def request(self, path: str, *, method="GET", headers=None, body=None, source="127.0.0.1") -> Answer:
        """A request to nginx over TLS, from the loopback address `source`."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.tls, source_address=(source, 0), timeout=60
        )
        return _ask(connection, method, path, {"Host": HOST, **(headers or {})}, body)

    def plain(self, path: str) -> Answer:
        """A request to nginx's plain HTTP port."""
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        return _ask(connection, "GET", path, {"Host": HOST}, None)

    def django(self, path: str, headers=None) -> Answer:
        """A request to gunicorn itself, past nginx, as nginx would send it: what Django answered."""
        return past_nginx(self.gunicorn_port, path, headers)


def past_nginx(port: int, path: str, headers=None) -> Answer:
    """A GET to the gunicorn on this port, as nginx would send it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    return _ask(connection, "GET", path, {"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})}, None)


def _ask(connection, method, path, headers, body) -> Answer:
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def nginx_size(value: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].lower() in units else int(value)


def body_limit(site: str, location: str) -> int:
    """The client_max_body_size written first inside the named location of the site file."""
    block = site[site.index(f"location {location} {{") :]
    return nginx_size(re.search(r"client_max_body_size\s+(\S+);", block).group(1))


def database_url() -> str:
    """The test database pytest-django made, which the test's own rows are committed to."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        user += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user + '@' if user else ''}{db.get('HOST') or ''}{port}/{quote(db['NAME'])}"


def put_in(text: str, places: dict[str, str], what: str) -> str:
    for shipped, ours in places.items():
        assert shipped in text, f"{what} no longer says {shipped!r}: tests/test_deployment.py puts its own there"
        text = text.replace(shipped, ours)
    return text


def nginx_main_conf(site: Path, folder: Path) -> str:
    """Debian's /etc/nginx/nginx.conf, the http block the site runs in, with a process of the test's own: in the
    foreground, its pid, logs and temporary files in the test's folder, and the test's site instead of sites-enabled."""
    lines, included = [], False
    for line in DEBIAN_NGINX_CONF.read_text().splitlines():
        directive = line.split("#", 1)[0].strip()
        if re.match(r"(user|pid|error_log|daemon)\s", directive) or directive.startswith("include /etc/nginx/conf.d/"):
            continue
        if directive.startswith("include /etc/nginx/sites-enabled/"):
            line, included = f"\tinclude {site};", True
        elif directive.startswith("access_log "):
            line = f"\taccess_log {folder}/access.log;"
        lines.append(line)
    assert included, f"{DEBIAN_NGINX_CONF} no longer includes sites-enabled/: the test cannot put its site there"
    head = ["daemon off;", f"pid {folder}/nginx.pid;", f"error_log {folder}/error.log;"]
    if os.geteuid() == 0:
        # Workers as the test's own user, who can read the test's folders (nginx's default would be nobody).
        head.append(f"user {pwd.getpwuid(os.geteuid()).pw_name};")
    temporary = [
        f"\t{kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    ]
    return re.sub(
        r"^http\s*\{", lambda m: m.group(0) + "\n" + "\n".join(temporary), "\n".join(head + lines), count=1, flags=re.M
    )


def certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def deployment(django_db_setup, tmp_path_factory):
    if connection.vendor != "postgresql":
        pytest.skip("the deployment runs on PostgreSQL: make test-postgres")
    reason = missing()
    if reason:
        if in_ci():
            pytest.fail(f"CI installs what the deployment test needs, yet it {reason[0].lower()}{reason[1:]}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("deployment")
    var = Path(settings.PRIVATE_MEDIA_ROOT).parent
    assert Path(settings.MEDIA_ROOT) == var / "media", "the site serves media/ and private/ from one folder"
    var.joinpath("private").mkdir(parents=True, exist_ok=True)
    ports = {"https": free_port(), "http": free_port(), "gunicorn": free_port(), "beacon": free_port()}
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)

    # The settings file, with this machine's folder, database, cache and a secret; and a load balancer in front.
    shipped = read_settings_file(DEPLOYED_SETTINGS.read_text())
    assert shipped["SECRET_KEY"] == "", "the shipped settings file must leave the secret to the operator"
    assert shipped["STORY_TRUSTED_PROXIES"] == "127.0.0.1", "nginx on the same machine is the proxy"
    values = {name: value.replace("/var/lib/storyarchive", str(var)) for name, value in shipped.items()}
    values |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url(),
        "CACHE_URL": redis_url(0),
        "STORY_TRUSTED_PROXIES": f"{shipped['STORY_TRUSTED_PROXIES']},{BALANCER}",
        "STORY_SHARE_LIMIT_MANAGE": str(MANAGE_LIMIT),
        "WEB_CONCURRENCY": "2",
    }
    static_root = Path(values["STATIC_ROOT"])
    env_file = folder / "env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    # What systemd gives a service: the settings file's values and little else.
    service_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **values}

    # collectstatic through the operator's wrapper, into the folder nginx serves.
    user = pwd.getpwuid(os.geteuid()).pw_name
    wrapper_env = {"PATH": service_env["PATH"], "STORYARCHIVE_ENV": str(env_file), "PYTHON": sys.executable}
    collected = subprocess.run(
        [str(MANAGE), "collectstatic", "--no-input"],
        env={**wrapper_env, "STORYARCHIVE_USER": user}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stderr

    # gunicorn, started by the unit's own command line with the test's port.
    exec_start = re.search(r"^ExecStart=(.+)$", WEB_UNIT.read_text(), re.M).group(1).split()
    assert exec_start[0] == "/srv/storyarchive/.venv/bin/gunicorn"
    arguments = [a.replace("127.0.0.1:8000", f"127.0.0.1:{ports['gunicorn']}") for a in exec_start[1:]]
    assert f"127.0.0.1:{ports['gunicorn']}" in arguments, "the unit binds gunicorn to 127.0.0.1:8000"
    # The listening beacon's gunicorn, by its unit's command line, scheduled as its unit says.
    beacon_unit = BEACON_UNIT.read_text()
    beacon_start = re.search(r"^ExecStart=(.+)$", beacon_unit, re.M).group(1).split()
    assert beacon_start[0] == exec_start[0]
    beacon_arguments = [a.replace("127.0.0.1:8001", f"127.0.0.1:{ports['beacon']}") for a in beacon_start[1:]]
    assert f"127.0.0.1:{ports['beacon']}" in beacon_arguments, "the unit binds the beacon to 127.0.0.1:8001"

    # nginx with the site file, inside Debian's nginx.conf.
    cert, key = certificate(folder)
    site = folder / "storyarchive.conf"
    site.write_text(
        put_in(
            SITE.read_text(),
            {
                "listen 80;": f"listen 127.0.0.1:{ports['http']};",
                "listen [::]:80;": "",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
                "listen [::]:443 ssl http2;": "",
                f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
                f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
                "http://127.0.0.1:8000": f"http://127.0.0.1:{ports['gunicorn']}",
                "server 127.0.0.1:8001;": f"server 127.0.0.1:{ports['beacon']};",
                "/var/lib/storyarchive/": f"{var}/",
            },
            "deploy/nginx/storyarchive.conf",
        )
    )
    main = folder / "nginx.conf"
    main.write_text(nginx_main_conf(site, folder))
    nginx = [nginx_program(), "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log")]
    checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr

    tls = ssl.create_default_context(cafile=str(cert))
    here = Deployment(ports["https"], ports["http"], ports["gunicorn"], tls, var, static_root, ports["beacon"])
    logs = [folder / "gunicorn.log", folder / "error.log", folder / "beacon.log"]
    here.web = start(gunicorn_command(*arguments), env=service_env, cwd=ROOT, log=logs[0])
    processes = [here.web]
    try:
        here.beacon = start(
            [*scheduled_as(beacon_unit), *gunicorn_command(*beacon_arguments)], env=service_env, cwd=ROOT, log=logs[2]
        )
        processes.append(here.beacon)
        processes.append(start(nginx, env=service_env, log=folder / "nginx.log"))
        wait_until(lambda: _answers(here.django, "/robots.txt"), "gunicorn answered", processes=processes, logs=logs)
        beacon = functools.partial(past_nginx, ports["beacon"])
        wait_until(lambda: _answers(beacon, "/robots.txt"), "the beacon answered", processes=processes, logs=logs)
        wait_until(lambda: _answers(here.request, "/robots.txt"), "nginx answered", processes=processes, logs=logs)
        yield here
    finally:
        stop(processes)


def _answers(ask, path) -> bool:
    """Whether a server answers at all: the home page may not be there yet, as a test before flushed the database."""
    try:
        return ask(path).status > 0
    except OSError:
        return False


def _server_processes(master: subprocess.Popen) -> list[int]:
    """A gunicorn started by this test: its master and its workers."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [master.pid, *map(int, children)]


def connections_from_nginx(port: int) -> set[str]:
    """The open (established) TCP connections to this loopback port, each by the local address and port it was opened
    from, as the kernel lists them in /proc/net/tcp."""
    established = "01"
    opened_from = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if state == established and int(remote.split(":")[1], 16) == port:
            opened_from.add(local)
    return opened_from


def test_nginx_sends_listening_reports_over_a_connection_it_keeps_open(deployment):
    """A thousand reports a second are not a thousand connections opened and closed: nginx sends one report after
    another over the connections it keeps to the beacon (each nginx worker its own). The control: the pages' gunicorn
    closes each connection after its answer, so none is left open to it."""
    report = b'{"story": 999999, "stretches": [0], "play": true}'
    answers, kept = [], []
    for _ in range(6):
        answers.append(
            deployment.request("/listened", method="POST", headers={"Content-Type": "text/plain"}, body=report)
        )
        kept.append(connections_from_nginx(deployment.beacon_port))
    page = deployment.request("/robots.txt")

    assert [answer.status for answer in answers] == [404] * 6 and page.status == 200
    assert kept[0] and kept[0] <= kept[-1], f"the first report's connection was closed: {kept}"
    assert len(set().union(*kept)) < len(answers), f"a connection for each report: {kept}"
    assert connections_from_nginx(deployment.gunicorn_port) == set()


def stored_recording():
    """A kept recording of the fixture with its listening copy made, as the worker leaves it."""
    with open(RECORDING, "rb") as source:
        media = recording_store(source=source, original_filename=RECORDING.name, process=False)
    recording_prepare_playback(media=media, path=Path(media.file.path))
    media.refresh_from_db()
    return media


def test_pages_come_through_nginx_with_the_security_headers_once(deployment):
    story = public_story(title="The garden on Elm Street")

    home = deployment.request("/")
    page = deployment.request(story.url)

    assert home.status == 200 and home.headers["Content-Type"].startswith("text/html")
    assert page.status == 200 and b"The garden on Elm Street" in page.body
    for answer in (home, page):
        assert answer.all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
        assert answer.all("X-Content-Type-Options") == ["nosniff"]
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.all("Permissions-Policy") == ["camera=(), geolocation=(), microphone=(self), payment=(), usb=()"]
        assert answer.headers["Server"] == "nginx", "no version is given away"
    assert deployment.request("/search/?q=garden").status == 200
    assert deployment.request("/admin/login/").status == 200, "the admin's static files are all in the manifest"
    redirect = deployment.plain("/stories/?page=2")
    assert redirect.status == 301 and redirect.headers["Location"] == f"https://{HOST}/stories/?page=2"


def test_static_files_are_sent_by_nginx_to_be_kept_a_year(deployment):
    home = deployment.request("/").body.decode()
    linked = re.search(r'href="(/static/css/archive\.[0-9a-f]{12}\.css)"', home)
    assert linked, "pages link the hashed name collectstatic gave each file"
    on_disk = (deployment.static_root / linked.group(1).removeprefix("/static/")).read_bytes()

    answer = deployment.request(linked.group(1))
    zipped = deployment.request(linked.group(1), headers={"Accept-Encoding": "gzip"})
    unhashed = deployment.request("/static/css/archive.css")

    assert answer.status == 200 and answer.body == on_disk
    assert answer.all("Cache-Control") == [YEAR]
    assert "Cross-Origin-Opener-Policy" not in answer.headers, "sent by nginx, not by Django and WhiteNoise"
    assert answer.all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    assert answer.all("X-Content-Type-Options") == ["nosniff"]
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.body) == on_disk
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert unhashed.status == 200 and unhashed.all("Cache-Control") == ["public, max-age=3600"]
    assert deployment.request("/static/css/nothing.4b3b1f7d4e87.css").all("Cache-Control") == []


def test_a_recordings_byte_ranges_are_sent_by_nginx_once_django_said_yes(deployment):
    media = stored_recording()
    public_story(recording=media)
    url = reverse("stories:recording", args=[media.id, "access"])
    data = (Path(settings.PRIVATE_MEDIA_ROOT) / media.access_copy.name).read_bytes()
    size = len(data)

    django = deployment.django(url, headers={"Range": "bytes=100-199"})
    ranged = deployment.request(url, headers={"Range": "bytes=100-199"})
    whole = deployment.request(url)
    past_the_end = deployment.request(url, headers={"Range": f"bytes={size}-"})

    assert django.headers["X-Accel-Redirect"] == f"/_recordings/{media.access_copy.name}"
    assert django.body == b"", "Django sent no bytes: nginx did"
    assert ranged.status == 206
    assert ranged.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert ranged.body == data[100:200]
    assert ranged.headers["Content-Type"] == media.access_content_type == "audio/mp4"
    assert ranged.all("Cache-Control") == ["no-cache"], "Django's choice for a public recording"
    assert "ETag" not in ranged.headers and "Last-Modified" not in ranged.headers, "nginx adds no validators"
    assert "X-Accel-Redirect" not in ranged.headers
    assert ranged.all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    assert ranged.all("X-Content-Type-Options") == ["nosniff"]
    assert whole.status == 200 and whole.body == data and whole.headers["Accept-Ranges"] == "bytes"
    assert past_the_end.status == 416 and past_the_end.headers["Content-Range"] == f"bytes */{size}"
    assert past_the_end.body == b""
    assert deployment.request(f"/_recordings/{media.access_copy.name}").status == 404, "internal: only after Django"


def test_a_hidden_recording_is_refused_with_no_bytes_and_its_storyteller_still_gets_it(deployment):
    media = stored_recording()
    story = public_story(recording=media, visibility=Visibility.PRIVATE)
    token = secrets.token_urlsafe(32)
    StorySubmission.objects.create(story=story, manage_token_digest=manage_token_digest(token), consent_wording="-")
    data = (Path(settings.PRIVATE_MEDIA_ROOT) / media.access_copy.name).read_bytes()
    url = reverse("stories:recording", args=[media.id, "access"])

    for headers in ({}, {"Range": "bytes=0-1023"}):
        answer = deployment.request(url, headers=headers)
        django = deployment.django(url, headers=headers)

        assert answer.status == 404
        assert data[:256] not in answer.body and data[1024:1280] not in answer.body
        assert "Content-Range" not in answer.headers and "X-Accel-Redirect" not in django.headers
    for original in (media.file.name, media.access_copy.name):
        assert deployment.request(f"/_recordings/{original}").status == 404
        assert deployment.request(f"/media/../private/{original}").status in (400, 404)

    # The storyteller's own link: a restricted answer, sent by nginx as Django labelled it.
    own = deployment.request(reverse("stories:my-story-recording", args=[token]))
    assert own.status == 200 and own.body == RECORDING.read_bytes()
    assert own.all("Cache-Control") == ["private, no-store"]
    assert own.headers["Content-Disposition"] == f'attachment; filename="my-story-{story.pk}.ogg"'
    assert "ETag" not in own.headers and "Last-Modified" not in own.headers, "a restricted answer has no validators"


def test_upload_pieces_at_the_limit_are_taken_and_nginx_refuses_more_with_413(deployment):
    site = SITE.read_text()
    chunk = settings.STORY_UPLOAD_CHUNK_BYTES
    whole_form = settings.STORY_UPLOAD_MAX_BYTES + FORM_OVERHEAD_BYTES
    assert body_limit(site, "~ ^/share/[^/]+/uploads/") == chunk, "a piece may be STORY_UPLOAD_CHUNK_BYTES"
    assert body_limit(site, "/share/") == whole_form, "the share form may carry STORY_UPLOAD_MAX_BYTES and its fields"

    invite = invite_create(community=CommunityFactory(), expires_at=_tomorrow(), max_uses=5)
    form = deployment.request(reverse("stories:share", args=[invite.token]))
    csrf = re.search(r"csrftoken=([^;]+)", "; ".join(form.all("Set-Cookie"))).group(1)
    same_site = {"Cookie": f"csrftoken={csrf}", "X-CSRFToken": csrf, "Origin": f"https://{HOST}"}
    started = deployment.request(
        reverse("stories:share-uploads", args=[invite.token]),
        method="POST",
        headers={**same_site, "Upload-Length": str(3 * chunk), "Upload-Filename": "interview.m4a"},
    )
    assert started.status == 201, started.body
    piece_url = started.headers["Location"]

    def send(offset: int, body: bytes) -> Answer:
        headers = {**same_site, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        return deployment.request(piece_url, method="PATCH", headers=headers, body=body)

    at_the_limit = send(0, os.urandom(chunk))
    over = send(chunk, os.urandom(chunk + 1))
    whole_form_over = _headers_only(deployment, reverse("stories:share", args=[invite.token]), whole_form + 1)

    assert at_the_limit.status == 200 and b'"offset": %d' % chunk in at_the_limit.body
    assert over.status == 413 and b"<center>nginx</center>" in over.body, "refused by nginx, not Django"
    assert "private, no-store" not in over.all("Cache-Control"), "Django's answers carry it; this one is nginx's"
    assert over.all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    assert b'"offset": %d' % chunk in deployment.request(piece_url).body, "nothing of the refused piece was stored"
    assert whole_form_over.status == 413 and b"<center>nginx</center>" in whole_form_over.body


def _tomorrow():
    return timezone.now() + datetime.timedelta(days=1)


def _headers_only(deployment: Deployment, path: str, length: int) -> Answer:
    """POST announcing a body of `length` bytes and send none of it: nginx judges the Content-Length alone."""
    connection = http.client.HTTPSConnection("127.0.0.1", deployment.https_port, context=deployment.tls, timeout=30)
    try:
        connection.putrequest("POST", path, skip_host=True)
        for name, value in {"Host": HOST, "Content-Length": str(length), "Content-Type": "multipart/form-data"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_rate_limits_count_the_client_address_nginx_forwards(deployment):
    def guesses(source: str, forwarded: list[str]) -> list[int]:
        """Guesses at a storyteller's private link, each with the X-Forwarded-For given (if any)."""
        statuses = []
        for n, address in enumerate(forwarded):
            headers = {"X-Forwarded-For": address} if address else {}
            statuses.append(deployment.request(f"/my-story/guess-{source}-{n}/", headers=headers, source=source).status)
        return statuses

    over = MANAGE_LIMIT + 1
    # Through the trusted balancer, two clients it names are counted apart, each up to its own limit.
    first = guesses(BALANCER, ["198.51.100.1"] * over)
    second = guesses(BALANCER, ["198.51.100.2"] * over)
    # A visitor who reaches nginx itself and writes the header is not believed: every forged address counts as its own.
    forging = guesses(VISITOR, [f"198.51.100.{10 + n}, {BALANCER}" for n in range(over)])
    # ...and does not spend anyone else's allowance.
    other = guesses(OTHER_VISITOR, [""])

    assert first == [404] * MANAGE_LIMIT + [429]
    assert second == [404] * MANAGE_LIMIT + [429], "counted apart from the balancer's first client"
    assert forging == [404] * MANAGE_LIMIT + [429], "the forged addresses were not believed"
    assert other == [404]


def test_listening_reports_go_to_the_beacons_own_server_at_a_lower_priority(deployment):
    """With the pages' gunicorn stopped, a listening report through nginx is still answered: by the beacon's own
    server, whose processes run only on a core the pages leave idle (SCHED_IDLE) while the pages' run as usual. The
    control: a page through nginx gets no answer meanwhile."""
    report = b'{"story": 999999, "stretches": [0], "play": true}'
    web = _server_processes(deployment.web)
    beacon = _server_processes(deployment.beacon)
    assert {os.sched_getscheduler(pid) for pid in beacon} == {os.SCHED_IDLE}
    assert {os.sched_getscheduler(pid) for pid in web} == {os.SCHED_OTHER}
    for pid in web:
        os.kill(pid, signal.SIGSTOP)
    try:
        answer = deployment.request("/listened", method="POST", headers={"Content-Type": "text/plain"}, body=report)
        page = http.client.HTTPSConnection("127.0.0.1", deployment.https_port, context=deployment.tls, timeout=3)
        with pytest.raises(socket.timeout):
            _ask(page, "GET", "/robots.txt", {"Host": HOST}, None)
    finally:
        for pid in web:
            os.kill(pid, signal.SIGCONT)

    assert answer.status == 404 and b"No story with a recording here." in answer.body, answer
    assert deployment.request("/robots.txt").status == 200
