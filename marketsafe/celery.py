"""The Celery application.

PostgreSQL is the source of truth for every background job; Redis messages only say that work exists.
The settings below follow the failure modes verified on this stack (late acks, re-queue on worker
loss, no prefetch beyond the pool, cancel long tasks on broker connection loss).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketsafe.settings")

app = Celery("marketsafe", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
