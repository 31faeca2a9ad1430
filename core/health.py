"""Liveness and readiness endpoints for load balancers, orchestrators and monitoring.

- `/healthz` (liveness): the process answers. It touches nothing (no database, no cache, no session), so
  a database outage never gets healthy web processes restarted.
- `/readyz` (readiness): this process can serve real work. PostgreSQL answers, the broker answers, every
  migration is applied, and no Celery queue holds more than `READINESS_MAX_BACKLOG` messages. It answers
  200 or 503 with one word per check and nothing else: no host names, versions or error texts, since it is
  reachable without authentication.

Both are cheap: the database and broker checks are one round trip each with short timeouts; the
migration check loads the migration graph only until it has once found nothing to apply (a deploy
migrates before it starts new web processes, so a process that saw "applied" stays right).
"""

import logging
from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

_migrations_applied = False


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _migrations() -> str:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_applied = not plan
    return "ok" if _migrations_applied else "pending"


def queue_depths(queues: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each queue (the Redis lists named after the queues), in one short connection;
    raises when the broker does not answer. Also read by `manage.py ops_status`."""
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        client = connection.channel().client
        return {queue: client.llen(queue) for queue in sorted(set(queues))}


def _broker_and_backlog() -> dict[str, str]:
    """Ping the broker and read each known queue's length."""
    depths = queue_depths([current_app.conf.task_default_queue, *settings.READINESS_QUEUES])
    backlog = "ok" if max(depths.values(), default=0) <= settings.READINESS_MAX_BACKLOG else "backlogged"
    return {"broker": "ok", "backlog": backlog}


CHECKS: dict[str, Any] = {"database": _database, "migrations": _migrations}


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readiness(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception:  # any failure means "not ready"; the reason goes to the log, not to the caller
            logger.warning("Readiness check %s failed", name, exc_info=True)
            results[name] = "unavailable"
    try:
        results.update(_broker_and_backlog())
    except Exception:
        logger.warning("Readiness check broker failed", exc_info=True)
        results.update(broker="unavailable", backlog="unknown")
    ready = all(value == "ok" for value in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
