"""Liveness and readiness (`core/health.py`): cheap, unauthenticated, and saying nothing but the checks."""

import json

import pytest
from celery import current_app

from devtools.devenv import free_port

pytestmark = pytest.mark.django_db

CHECK_VALUES = {"ok", "pending", "unavailable", "backlogged", "unknown"}


def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readiness_checks_postgresql_migrations_and_the_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok", "backlog": "ok"},
    }


def test_readiness_is_503_when_the_broker_is_unreachable_and_leaks_no_detail(client):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: a real refused connection
    # The write URL is what the check connects with. Unset afterwards (not restored to a value), so it
    # falls back to broker_url again: the worker tests point broker_url at servers of their own.
    current_app.conf.broker_write_url = closed
    try:
        response = client.get("/readyz")
    finally:
        current_app.conf.changes.pop("broker_write_url", None)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert (body["checks"]["broker"], body["checks"]["backlog"]) == ("unavailable", "unknown")
    assert set(body["checks"].values()) <= CHECK_VALUES
    assert "127.0.0.1" not in json.dumps(body)


def test_readiness_reports_a_backlog_over_the_limit(client, settings):
    settings.READINESS_MAX_BACKLOG = 0
    settings.READINESS_QUEUES = ["readiness-probe-test"]
    with current_app.connection_for_write() as connection:
        client_ = connection.channel().client
        client_.rpush("readiness-probe-test", "x")
        try:
            response = client.get("/readyz")
        finally:
            client_.delete("readiness-probe-test")
    assert response.status_code == 503
    assert response.json()["checks"]["backlog"] == "backlogged"
