"""Settings that run with no environment set: SQLite, database search, the bundled Whisper model."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from storyarchive.object_storage import bucket_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("STORYARCHIVE_VAR_DIR", BASE_DIR / "var"))


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-local-only-key-change-me")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "stories",
    "transcription",
    "search",
    "iiif",
    "preservation",
    "oai",
    "podcasts",
    "audience",
    "insights",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    # The API's documentation page from its own static files (ninja/static), never a CDN.
    "ninja",
    "corsheaders",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CORS for public reads of /api/ only; then every API error as the API's JSON, whoever answered it.
    "storyarchive.middleware.PublicReadCorsMiddleware",
    "storyarchive.middleware.ApiErrorsAsJsonMiddleware",
    # Before anything reads the address or the parameters: a NUL byte there is a 400, never a database error.
    "storyarchive.middleware.UnstorableCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A long transcript is most of a story page's weight, and compresses to a fraction (Django pads against BREACH).
    "storyarchive.middleware.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The admin answers a story outside a facilitator's communities as it answers a missing page (404).
    "stories.permissions.StoryOutOfReachMiddleware",
    # Anonymous visitors' pages from the shared cache, forgotten at once when the archive changes (PAGE_CACHE_SECONDS).
    "stories.page_cache.PublicPageCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "storyarchive.middleware.ContentSecurityPolicyMiddleware",
    "stories.redirects.PublicRedirectMiddleware",
]

# Every public page, its player, transcript and the share form's recorder run on this: scripts, styles, media and
# requests from this site only; recordings made in the browser play from blob: addresses before they are sent.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "media-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Pages on any site may read the public API (GET and HEAD under /api/, storyarchive.middleware.PublicReadCorsMiddleware),
# without cookies; nothing else is shared.
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CONTENT_SECURITY_POLICY_EXEMPT_PREFIXES = ["/admin/", "/django-admin/"]

ROOT_URLCONF = "storyarchive.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "storyarchive.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: wait for the lock instead of failing. secure_delete
    # overwrites what a deletion frees, so a withdrawn story's words do not linger in the file (search/purge.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON;",
        }
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic gathers the static files for nginx to send (deploy/nginx/storyarchive.conf).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Public media: Wagtail images (covers, community pictures) only.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# Recordings, access copies and posters live here and are never served by a static URL:
# stories.views serves them after applying the visibility rule.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # An access copy made again replaces the one before (stories/storage.py stores it by a rename).
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None, "allow_overwrite": True},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Or the recordings in an S3-compatible bucket, private, when PRIVATE_STORAGE_URL names one (s3://bucket or
# s3://bucket/folder); boto3 reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment. Uploads still
# arriving wait in PRIVATE_MEDIA_ROOT/uploads/ until they are checked and stored.
PRIVATE_STORAGE_URL = os.environ.get("PRIVATE_STORAGE_URL", "")
if PRIVATE_STORAGE_URL:
    STORAGES["private"] = bucket_storage(
        PRIVATE_STORAGE_URL,
        endpoint=os.environ.get("PRIVATE_STORAGE_ENDPOINT", ""),
        region=os.environ.get("PRIVATE_STORAGE_REGION", ""),
    )

# Uploads: the largest file accepted, and the longest recording a header may claim.
STORY_UPLOAD_MAX_BYTES = env_int("STORY_UPLOAD_MAX_BYTES", 2 * 1024**3)
STORY_MAX_DURATION_SECONDS = env_int("STORY_MAX_DURATION_SECONDS", 4 * 3600)
# Resumable uploads from the share form go up in pieces of this size.
STORY_UPLOAD_CHUNK_BYTES = env_int("STORY_UPLOAD_CHUNK_BYTES", 4 * 1024 * 1024)
# The proxies in front of the web server (nginx on the same machine: 127.0.0.1): behind them, the rate limits read
# the client's address from the X-Forwarded-For header they add. Empty: REMOTE_ADDR is the client.
STORY_TRUSTED_PROXIES = [a.strip() for a in os.environ.get("STORY_TRUSTED_PROXIES", "").split(",") if a.strip()]
# The cache: each process's own memory unless CACHE_URL names a Redis server, which production needs so the rate
# limits below are counted across every web process.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a Redis address (redis://host:6379/0), not {CACHE_URL!r}.")
# Anonymous visitors' pages kept this long in the cache (stories/page_cache.py), forgotten at once when anything they
# show changes; 0 turns it off. On by default only with a shared cache: a process's own memory cannot make the other
# processes forget.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300 if CACHE_URL else 0)
if PAGE_CACHE_SECONDS and not CACHE_URL:
    raise ImproperlyConfigured("PAGE_CACHE_SECONDS needs CACHE_URL: every web process must forget the same pages.")
# Requests an hour on the share and manage pages, per client address, per invite, and for upload pieces. The counts
# live in the cache: in production use a cache shared by every web process (CACHE_URL).
STORY_SHARE_RATE_LIMITS = {
    "address": env_int("STORY_SHARE_LIMIT_ADDRESS", 60),
    "invite": env_int("STORY_SHARE_LIMIT_INVITE", 120),
    "chunk": env_int("STORY_SHARE_LIMIT_CHUNK", 3000),
    "manage": env_int("STORY_SHARE_LIMIT_MANAGE", 60),
}
# The player's listening beacon (audience/beacon.py): reports a minute per client before it answers 429, counted in
# the cache like the limits above. Each process keeps its counts in memory and hands them to the worker every so many
# reports or seconds, so a beacon never waits on the database.
AUDIENCE_BEACON_LIMIT_PER_MINUTE = env_int("AUDIENCE_BEACON_LIMIT", 120)
AUDIENCE_FLUSH_EVERY = 1000
AUDIENCE_FLUSH_SECONDS = 30
# When set (e.g. /_recordings/), nginx sends recording bytes after Django has decided who may have them.
STORY_MEDIA_ACCEL_REDIRECT = os.environ.get("STORY_MEDIA_ACCEL_REDIRECT", "")
if STORY_MEDIA_ACCEL_REDIRECT and PRIVATE_STORAGE_URL:
    raise ImproperlyConfigured(
        "STORY_MEDIA_ACCEL_REDIRECT lets nginx send recordings from the disk; with PRIVATE_STORAGE_URL they are in a "
        "bucket and the archive streams them itself. Leave STORY_MEDIA_ACCEL_REDIRECT empty."
    )
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Whisper: "tiny.en" (bundled), "base" (requirements-multilingual.txt), or a CTranslate2 model directory.
TRANSCRIPTION_MODEL = os.environ.get("TRANSCRIPTION_MODEL", "tiny.en")
TRANSCRIPTION_CACHE_DIR = Path(os.environ.get("TRANSCRIPTION_CACHE_DIR", VAR_DIR / "models"))
# The Unix niceness a transcription worker runs at (0-19; the web server runs at 0): when both want the cores, the
# web's requests are served first and the transcription takes what is left.
TRANSCRIPTION_WORKER_NICENESS = env_int("TRANSCRIPTION_WORKER_NICENESS", 10)
# A job with no heartbeat for this long was lost with its worker and goes back to the queue.
TRANSCRIPTION_LEASE_SECONDS = env_int("TRANSCRIPTION_LEASE_SECONDS", 120)
TRANSCRIPTION_MAX_ATTEMPTS = env_int("TRANSCRIPTION_MAX_ATTEMPTS", 4)
TRANSCRIPTION_RETRY_BACKOFF_SECONDS = env_int("TRANSCRIPTION_RETRY_BACKOFF_SECONDS", 30)

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
ELASTICSEARCH_INDEX_PREFIX = os.environ.get("ELASTICSEARCH_INDEX_PREFIX", "storyarchive")

WAGTAIL_SITE_NAME = "Story Archive"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
if ELASTICSEARCH_URL:
    WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.wagtail_backend",
            # One node's URL, or several separated by commas.
            "URLS": [node.strip() for node in ELASTICSEARCH_URL.split(",") if node.strip()],
            "INDEX_PREFIX": f"{ELASTICSEARCH_INDEX_PREFIX}-wagtail-",
        }
    }
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt", "docx", "odt"]

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Story Archive <stories@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "stories": {"handlers": ["console"], "level": "INFO"},
        "transcription": {"handlers": ["console"], "level": "INFO"},
        "search": {"handlers": ["console"], "level": "INFO"},
    },
}
