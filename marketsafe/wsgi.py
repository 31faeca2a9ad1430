"""WSGI entry point (gunicorn marketsafe.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketsafe.settings")

application = get_wsgi_application()
