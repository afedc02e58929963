"""Test settings: the same settings with a fast hasher, locmem email and no HTTPS redirect."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-test-suite-0123456789")

from .settings import *  # noqa: E402,F403
from .settings import env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env.path("TEST_MEDIA_ROOT", default="/tmp/tmw-test-media")  # noqa: S108
# Throttling and other cache state must not leak from one test (or one run) into the next.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions as production keeps them (with REDIS_URL), here in the one process's cache: the same queries everywhere.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Every test reads its pages through the page cache (one process: its own cache is shared by all it runs).
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)
# Small statement-run batches: runs in tests span several batches (and a killed worker leaves some done).
STATEMENT_RUN_BATCH_SIZE = env.int("STATEMENT_RUN_BATCH_SIZE", default=4)
