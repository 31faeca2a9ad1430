"""MarketSafe project package: settings, URLs, the Celery app and the shared bases every app builds on."""

from marketsafe.celery import app as celery_app

__all__ = ("celery_app",)
