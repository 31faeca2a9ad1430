"""Settings for the test suite: the real PostgreSQL and Redis of `settings`, faster hashing, private
files in a temporary folder, e-mail kept in memory."""

import tempfile

from marketsafe.settings import *  # noqa: F403
from marketsafe.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
_TMP = tempfile.mkdtemp(prefix="marketsafe-test-")
STORAGES = {
    **STORAGES,
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": f"{_TMP}/private"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = f"{_TMP}/media"
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": "marketsafe-test"}}  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = False
