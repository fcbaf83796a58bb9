"""An S3-compatible server on loopback for tests: moto's server mode (PyPI `moto[server]`), started in this process.

`object_storage` starts it on a free port of 127.0.0.1, creates a bucket, points the private storage at it (the same
STORAGES entry PRIVATE_STORAGE_URL makes) and gives the local private root a folder of its own, so a test can show
nothing was written there. Django forgets the storages it built when STORAGES changes (the setting_changed signal),
both when the fixture sets it and when pytest-django puts it back. No tests of its own.
"""

import dataclasses
from pathlib import Path

import pytest

from storyarchive.object_storage import bucket_storage
from tests.servers import free_port

BUCKET = "story-archive-test"
FOLDER = "archive"
REGION = "us-east-1"


@dataclasses.dataclass
class Bucket:
    client: object
    name: str
    folder: str
    local_root: Path

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, name: str) -> bytes:
        """A stored file's bytes, by the name the archive keeps (inside the bucket's folder)."""
        return self.client.get_object(Bucket=self.name, Key=f"{self.folder}/{name}")["Body"].read()


def local_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def object_storage(settings, monkeypatch, tmp_path):
    """The private storage in a bucket of a moto server on loopback, for the length of one test."""
    import boto3
    from moto.server import ThreadedMotoServer

    # Credentials only the loopback server hears; boto3 reads them from the environment, as in production.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "story-archive-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "story-archive-test-secret")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        # moto keeps its buckets in this process, not in the server: each test starts from none.
        _forget_every_bucket(endpoint)
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        local_root = tmp_path / "private"
        settings.PRIVATE_MEDIA_ROOT = local_root
        settings.STORAGES = {
            **settings.STORAGES,
            "private": bucket_storage(f"s3://{BUCKET}/{FOLDER}", endpoint=endpoint, region=REGION),
        }
        yield Bucket(client=client, name=BUCKET, folder=FOLDER, local_root=local_root)
    finally:
        _forget_every_bucket(endpoint)
        server.stop()


def _forget_every_bucket(endpoint: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
