"""The WSGI application `bench_pages --live` runs under gunicorn: the project's, plus the benchmark's bare
view (the URLs of marketsafe/management/commands/bench_pages.py). Never used to serve the portal."""

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = "marketsafe.management.commands.bench_pages"
settings.ALLOWED_HOSTS = ["*"]
