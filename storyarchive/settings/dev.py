import os

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = True
# Mail a developer's archive sends is written to files under var/mail, one per message, not printed: a storyteller's
# private manage link must not land in a terminal's scrollback or a log collector.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"

# Serve static files straight from the app folders; production runs collectstatic instead.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
