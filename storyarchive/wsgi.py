import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storyarchive.settings.dev")

django_application = get_wsgi_application()

from audience.beacon import beacon_in_front  # noqa: E402 - the apps are loaded by get_wsgi_application

# The listening beacon is posted every few stretches by every player: it is answered by a handler of its own, which
# runs only the middleware a report needs (audience/beacon.py).
application = beacon_in_front(django_application)

# Everything loaded so far (Django, Wagtail, the URL maps) lives as long as the process. Moving it out of the
# collector's reach keeps each full collection short, so a request that allocates a lot (a search matching most
# stories) does not pause for tens of milliseconds while the collector walks the whole framework; under a
# pre-forking server it also spares the copy-on-write pages the collector would otherwise touch.
gc.freeze()
