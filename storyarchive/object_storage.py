"""The private storage in an S3-compatible bucket (django-storages), from PRIVATE_STORAGE_URL."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def bucket_storage(url: str, *, endpoint: str = "", region: str = "") -> dict:
    """The STORAGES entry for `s3://bucket` or `s3://bucket/folder`, private whatever the bucket allows.

    Credentials are never settings: boto3 reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"PRIVATE_STORAGE_URL must name a bucket as s3://bucket or s3://bucket/folder, not {url!r}; "
            "the server's address goes in PRIVATE_STORAGE_ENDPOINT."
        )
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ImproperlyConfigured(f"PRIVATE_STORAGE_ENDPOINT must be an http(s) address, not {endpoint!r}.")
    options = {
        "bucket_name": parts.netloc,
        "location": parts.path.strip("/"),
        # No ACL header is ever sent, so every object keeps the bucket's owner-only default; nothing here asks for
        # public-read, and an address from .url() is signed and short-lived.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        # An access copy made again replaces the one before, under the same name.
        "file_overwrite": True,
        # A file read whole through storage.open() spills to disk past this, never a recording held in memory.
        "max_memory_size": 16 * 1024 * 1024,
        "signature_version": "s3v4",
    }
    if endpoint:
        options["endpoint_url"] = endpoint
        # S3-compatible servers (MinIO, Garage, Ceph) answer at their own address, not at bucket.host names.
        options["addressing_style"] = "path"
    if region:
        options["region_name"] = region
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
