"""The files in deploy/ agree with the archive and with each other: the cron file runs what `make run` schedules, as
often; the worker unit runs `make run`'s worker; nginx serves the folders and the prefix the settings file names, and
waits as long as gunicorn lets a request run. tests/test_deployment.py runs them; this needs no services."""

import re
import runpy
import sys
from pathlib import Path

from django.conf import settings

from bench.site import BEACON_UNIT, DEPLOYED_SETTINGS, read_settings_file, scheduled_as
from stories.management.commands.run_archive import SCHEDULE, WORKER_COMMAND
from tests.test_deployment import SITE, WEB_UNIT

DEPLOY = Path(settings.BASE_DIR) / "deploy"
CRON = DEPLOY / "cron" / "storyarchive"
WORKER_UNIT = DEPLOY / "systemd" / "storyarchive-worker@.service"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
EVERY = {"*/15 * * * *": 15 * 60, "10 * * * *": 3600, "30 3 * * *": 24 * 3600}


def cron_jobs() -> dict[tuple[str, ...], str]:
    """The manage.py commands the cron file runs, and when."""
    jobs = {}
    for line in CRON.read_text().splitlines():
        fields = line.split()
        if not fields or line.startswith("#") or "=" in fields[0]:
            continue
        when, user, command = " ".join(fields[:5]), fields[5], " ".join(fields[6:])
        assert user == "storyarchive", line
        if "/deploy/manage.sh " in command:
            jobs[tuple(command.split("/deploy/manage.sh ", 1)[1].split("|")[0].split())] = when
    return jobs


def test_cron_runs_what_make_run_schedules_as_often():
    jobs = cron_jobs()

    for command, seconds in SCHEDULE.items():
        assert command in jobs, f"deploy/cron/storyarchive does not run {' '.join(command)}"
        assert EVERY[jobs[command]] == seconds, f"{' '.join(command)} runs at {jobs[command]}, not every {seconds} s"


def test_the_worker_unit_runs_make_runs_worker():
    exec_start = re.search(r"^ExecStart=(.+)$", WORKER_UNIT.read_text(), re.M).group(1).split()

    assert exec_start == ["/srv/storyarchive/.venv/bin/python", "manage.py", *WORKER_COMMAND]


def test_nginx_serves_what_the_settings_file_names():
    site, values = SITE.read_text(), read_settings_file(DEPLOYED_SETTINGS.read_text())
    var = values["STORYARCHIVE_VAR_DIR"]

    assert values["DJANGO_SETTINGS_MODULE"] == "storyarchive.settings.production"
    assert f"location {values['STORY_MEDIA_ACCEL_REDIRECT']} {{" in site
    assert f"alias {var}/private/;" in site, "the recordings' folder is PRIVATE_MEDIA_ROOT"
    assert f"alias {values['STATIC_ROOT']}/;" in site
    assert f"alias {var}/media/images/;" in site
    assert "http://127.0.0.1:8000" in site and "--bind 127.0.0.1:8000" in WEB_UNIT.read_text()


def test_nginx_sends_the_listening_beacon_to_its_own_server_running_the_same_archive():
    site = SITE.read_text()
    beacon = re.search(r"location = /listened \{(.*?)\}", site, re.S)
    web = re.search(r"^ExecStart=(.+)$", WEB_UNIT.read_text(), re.M).group(1).split()
    own = re.search(r"^ExecStart=(.+)$", BEACON_UNIT.read_text(), re.M).group(1).split()

    upstream = re.search(r"upstream storyarchive_beacon \{(.*?)\}", site, re.S)

    assert beacon and "proxy_pass http://storyarchive_beacon;" in beacon.group(1)
    assert upstream and "server 127.0.0.1:8001;" in upstream.group(1)
    assert "--bind 127.0.0.1:8001" in " ".join(own)
    assert own[0] == web[0] and own[-1] == web[-1] == "storyarchive.wsgi", "the same archive, the same settings"
    assert own[own.index("--config") + 1] == web[web.index("--config") + 1]
    assert scheduled_as(BEACON_UNIT.read_text()) == ["chrt", "--idle", "0"], "only on a core the pages leave idle"
    assert scheduled_as(WEB_UNIT.read_text()) == [], "the control: the pages' server as any other"


def gunicorn_settings(unit: Path, monkeypatch):
    """What gunicorn runs with when started by the unit's ExecStart line: its config file, the command line over it."""
    from gunicorn.app.wsgiapp import WSGIApplication

    command = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.M).group(1).split()
    monkeypatch.chdir(settings.BASE_DIR)
    monkeypatch.setattr(sys, "argv", ["gunicorn", *command[1:]])
    return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg


def test_the_beacons_workers_are_kept_while_the_pages_workers_are_replaced(monkeypatch):
    """At a thousand reports a second, replacing a worker every thousand requests would start each beacon worker
    afresh every two seconds, re-reading every story from the database; the pages' workers give back memory that
    way."""
    web, beacon = gunicorn_settings(WEB_UNIT, monkeypatch), gunicorn_settings(BEACON_UNIT, monkeypatch)

    assert web.max_requests > 0, "the control: the pages' workers are replaced, as deploy/gunicorn.conf.py says"
    assert beacon.max_requests == 0, "the beacon's workers are never replaced"
    assert beacon.preload_app and beacon.workers == 2


def test_nginx_keeps_its_connections_to_the_beacon_open_longer_than_the_beacon_would_close_them(monkeypatch):
    """A report through nginx reuses a connection to the beacon, rather than opening and closing one: nginx keeps a
    few open (keepalive, over HTTP/1.1 without the client's Connection header), and the beacon's threaded workers keep
    theirs open longer than nginx keeps an idle one (60 s, nginx's default), so nginx never sends a report on a
    connection the beacon has just closed."""
    site = SITE.read_text()
    upstream = re.search(r"upstream storyarchive_beacon \{(.*?)\}", site, re.S).group(1)
    web, beacon = gunicorn_settings(WEB_UNIT, monkeypatch), gunicorn_settings(BEACON_UNIT, monkeypatch)

    assert re.search(r"^\s*keepalive [1-9]\d*;", upstream, re.M)
    assert "keepalive_timeout" not in upstream, "nginx's default, 60 s, which the beacon's keep-alive outlasts"
    assert "proxy_http_version 1.1;" in site and 'proxy_set_header Connection "";' in site
    assert beacon.worker_class_str == "gthread" and beacon.threads > 1 and beacon.keepalive > 60
    assert web.worker_class_str == "sync", "the control: the pages' sync workers close each connection"


def test_nginx_waits_as_long_as_gunicorn_lets_a_request_run():
    timeout = runpy.run_path(str(GUNICORN_CONF))["timeout"]

    assert f"proxy_read_timeout {timeout}s;" in SITE.read_text()
