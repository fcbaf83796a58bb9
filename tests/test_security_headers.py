"""Headers that protect visitors: a Content-Security-Policy on every public page and API answer (none of which needs
an inline script), left off the admins, whose pages do; and production settings that pass `check --deploy`."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from stories.factories import public_story

PUBLIC = ["/", "/stories/", "/communities/", "/themes/", "/collections/", "/search/?q=garden", "/api/stories"]


@pytest.mark.parametrize("url", PUBLIC)
def test_every_public_page_carries_the_policy(client, url):
    policy = client.get(url)["Content-Security-Policy"]

    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_a_story_page_carries_the_policy_and_the_admin_does_not(client, admin_client):
    story = public_story(title="The garden")

    assert "script-src 'self'" in client.get(story.url)["Content-Security-Policy"]
    assert "Content-Security-Policy" not in admin_client.get("/admin/"), "Wagtail's admin needs its inline scripts"


def test_production_settings_pass_the_deployment_checks():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storyarchive.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "stories.example.org",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright by the browser tests' conftest, never in production
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert checked.returncode == 0, checked.stderr + checked.stdout
