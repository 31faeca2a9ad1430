"""MarketSafe project package: the wiring. Settings, root URLs and the API root, the Celery app, and the demo
data command: the only modules that name every app (README, "Architecture")."""

from marketsafe.celery import app as celery_app

__all__ = ("celery_app",)
