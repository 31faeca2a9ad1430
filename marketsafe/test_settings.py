"""Settings for the test suite: the real PostgreSQL and Redis of `settings`, faster hashing, private
files in a temporary folder, e-mail kept in memory, and the login lockout off.

The lockout is off because django-axes refuses `authenticate()` calls without a request, which is how
the test client's `login()` authenticates, and because its failure records would carry over between
tests of other features. The lockout tests switch it on (`settings.AXES_ENABLED = True`) and log in
through the real login pages. The second factor is off as in development (`STAFF_REQUIRE_2FA` follows
the mode); its tests switch it on the same way.
"""

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
AXES_ENABLED = False
