"""Production's static files storage: collectstatic's hashed names, and a page that still renders without them."""

import logging

from django.contrib.staticfiles import finders
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """collectstatic writes each file under a name carrying a hash of its content (archive.4b3b1f7d4e87.css), with a
    gzipped copy beside it, and pages link those names, which nginx lets browsers keep for a year
    (deploy/nginx/storyarchive.conf).

    A static file that collectstatic has not gathered (not run since the file was added, or a benchmark's throwaway
    site that never ran it) is linked by its plain name, which nginx serves for an hour, instead of every page that
    links it failing with a server error; each such name is logged once. A name that is no static file at all is still
    an error, as Django makes it (WhiteNoise asks about such names and expects one)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._linked_plainly = set()

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            if name not in self._linked_plainly:
                if not finders.find(name):
                    raise
                self._linked_plainly.add(name)
                logger.warning("static file %s is not in collectstatic's manifest: linked by its plain name", name)
            return name
