from .base import *  # noqa: F403

DEBUG = True
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Serve static files straight from the app folders; production runs collectstatic instead.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
