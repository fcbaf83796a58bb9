# The private storage in a bucket of an S3-compatible server on loopback, for the tests that ask for it.
from tests.object_storage import object_storage  # noqa: F401
