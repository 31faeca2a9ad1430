"""Prometheus metrics (core/metrics.py, marketsafe/metrics.py): who reaches `/metrics`, and that its figures
follow real requests, filings, decisions, webhook attempts and the real broker's queues."""

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from celery import current_app
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cases import services as case_services
from cases.models import CaseItem
from devtools.devenv import free_port
from integrations import services as webhook_services
from integrations.models import WebhookDelivery

pytestmark = pytest.mark.django_db

TOKEN = "t" * 40
OUTSIDE = "203.0.113.7"  # TEST-NET-3: never one of the allowed networks below


@pytest.fixture(autouse=True)
def metrics_settings(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.METRICS_TOKEN = ""
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """Scrape /metrics from the allowed network and parse it: {(sample name, sorted labels): value}."""
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who reaches it ------------------------------------------------------------------------------


def test_a_scraper_on_an_allowed_network_reaches_it(client):
    samples = scrape(client)
    assert ("marketsafe_broker_up", ()) in samples


def test_anyone_else_gets_the_ordinary_404(client):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 404
    assert b"marketsafe_" not in response.content
    assert response.content == client.get("/no-such-page", REMOTE_ADDR=OUTSIDE).content


def test_forwarded_addresses_count_only_behind_the_trusted_proxy(client, metrics_settings):
    # No proxy configured: the header is whatever the client wrote.
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="10.0.0.5").status_code == 404
    metrics_settings.TRUSTED_PROXY_COUNT = 1
    behind_proxy = {"REMOTE_ADDR": "192.0.2.1"}
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.5", **behind_proxy).status_code == 200
    # A client prepending an allowed address is still seen at the address the proxy appended.
    spoofed = client.get("/metrics", HTTP_X_FORWARDED_FOR=f"10.0.0.5, {OUTSIDE}", **behind_proxy)
    assert spoofed.status_code == 404


def test_the_bearer_token_lets_a_scraper_in_from_anywhere(client, metrics_settings):
    metrics_settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert b"marketsafe_http_requests_total" in response.content


def test_a_wrong_token_gets_404(client, metrics_settings):
    metrics_settings.METRICS_TOKEN = TOKEN
    for header in (f"Bearer {TOKEN[:-1]}x", f"Bearer {TOKEN}x", f"Token {TOKEN}", "Bearer "):
        assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=header).status_code == 404


def test_a_token_shorter_than_32_characters_is_ignored(client, metrics_settings):
    metrics_settings.METRICS_TOKEN = "s" * 31
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {'s' * 31}")
    assert response.status_code == 404


def test_nothing_configured_lets_nobody_in_not_even_loopback(client, metrics_settings):
    metrics_settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_only_reads_are_answered(client):
    assert client.post("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 405
    assert client.post("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 404


# --- what it says --------------------------------------------------------------------------------


def test_requests_are_counted_by_url_pattern_never_by_raw_path(client):
    labels = {"view": "invitation_accept", "method": "GET"}
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/invitations/secret-looking-token-123/")
    after = scrape(client)

    ok = {"view": "healthz", "method": "GET", "status": "200"}
    assert (
        value(after, "marketsafe_http_requests_total", **ok) - value(before, "marketsafe_http_requests_total", **ok)
        == 2
    )
    assert value(after, "marketsafe_http_request_duration_seconds_count", view="healthz", method="GET") >= 2
    invitation = [
        key for key in after if key[0] == "marketsafe_http_requests_total" and ("view", labels["view"]) in key[1]
    ]
    assert invitation, "the invitation page is counted under its pattern's name"
    assert not any("secret-looking-token-123" in str(key) for key in after)


def test_filings_decisions_and_sla_breaches_are_counted(client, file_case, moderator):
    before = scrape(client)
    items = list(file_case(3).items.order_by("pk"))
    lane = items[0].lane
    case_services.item_accept(item_id=items[0].pk, actor=moderator)
    case_services.item_reject(item_id=items[1].pk, actor=moderator, code="insufficient_evidence")
    CaseItem.objects.filter(pk=items[2].pk).update(sla_due_at=timezone.now() - timezone.timedelta(hours=1))
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("marketsafe_items_filed_recent", lane=lane) == 3
    assert moved("marketsafe_decisions_recent", lane=lane, outcome="accepted") == 1
    assert moved("marketsafe_decisions_recent", lane=lane, outcome="rejected") == 1
    assert moved("marketsafe_decisions_recent", lane=lane, outcome="clarification_requested") == 0
    assert moved("marketsafe_review_queue_items", lane=lane) == 1
    assert moved("marketsafe_sla_breached_items", lane=lane) == 1


def test_recent_figures_leave_out_rows_older_than_the_window_and_say_when_they_stop_short(
    client, file_case, metrics_settings
):
    items = file_case(3).items.order_by("pk")
    lane = items[0].lane
    assert value(scrape(client), "marketsafe_items_filed_recent", lane=lane) == 3
    CaseItem.objects.filter(pk=items[0].pk).update(submitted_at=timezone.now() - timezone.timedelta(hours=1))
    assert value(scrape(client), "marketsafe_items_filed_recent", lane=lane) == 2

    metrics_settings.METRICS_SCAN_ROWS = 1  # reads only the newest item: the window is not reached
    samples = scrape(client)
    assert value(samples, "marketsafe_items_filed_recent", lane=lane) == 1
    assert value(samples, "marketsafe_metrics_window_saturated", table="items") == 1


def test_failed_webhook_attempts_are_counted(client, brand, owner, file_case, metrics_settings):
    metrics_settings.MARKETSAFE = {
        **metrics_settings.MARKETSAFE,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    closed = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there: a real refused connection
    webhook_services.webhook_endpoint_create(brand=brand, url=closed, actor=owner)
    file_case(1)
    before = scrape(client)
    assert value(before, "marketsafe_webhook_deliveries_due") >= 1
    delivery = WebhookDelivery.objects.get(endpoint__url=closed)
    webhook_services.delivery_attempt(delivery_id=delivery.pk)
    after = scrape(client)
    failed = {"result": "failed"}
    assert (
        value(after, "marketsafe_webhook_attempts_recent", **failed)
        - value(before, "marketsafe_webhook_attempts_recent", **failed)
        == 1
    )


def test_a_failing_database_query_leaves_the_rest_of_the_scrape(client, metrics_settings):
    metrics_settings.METRICS_SCAN_ROWS = -1  # PostgreSQL refuses a negative LIMIT: a real DatabaseError
    samples = scrape(client)
    assert value(samples, "marketsafe_database_up") == 0
    assert value(samples, "marketsafe_broker_up") == 1
    assert not any(name.startswith("marketsafe_items_filed") for name, _labels in samples)
    metrics_settings.METRICS_SCAN_ROWS = 20_000
    assert value(scrape(client), "marketsafe_database_up") == 1  # the test's transaction is still usable


def test_queue_depth_is_read_from_the_real_broker(client, metrics_settings):
    metrics_settings.READINESS_QUEUES = ["metrics-probe-test"]
    with current_app.connection_for_write() as connection:
        redis = connection.channel().client
        redis.rpush("metrics-probe-test", "a", "b", "c")
        try:
            samples = scrape(client)
        finally:
            redis.delete("metrics-probe-test")
    assert value(samples, "marketsafe_broker_up") == 1
    assert value(samples, "marketsafe_queue_depth", queue="metrics-probe-test") == 3
    assert ("marketsafe_queue_depth", (("queue", current_app.conf.task_default_queue),)) in samples


def test_queues_named_by_the_routes_are_reported(client):
    current_app.conf.task_routes = {"listings.tasks.*": {"queue": "metrics-routed-test"}}
    try:
        samples = scrape(client)
    finally:
        current_app.conf.changes.pop("task_routes", None)
    assert ("marketsafe_queue_depth", (("queue", "metrics-routed-test"),)) in samples


def test_an_unreachable_broker_is_reported_not_raised(client):
    current_app.conf.broker_write_url = f"redis://127.0.0.1:{free_port()}/0"
    try:
        samples = scrape(client)
    finally:
        current_app.conf.changes.pop("broker_write_url", None)
    assert value(samples, "marketsafe_broker_up") == 0
    assert not any(name == "marketsafe_queue_depth" for name, _labels in samples)


# --- several gunicorn workers ----------------------------------------------------------------------


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server on loopback)
        return response.status


def test_gunicorn_workers_add_up_their_counts_in_multiprocess_mode(tmp_path):
    """A real gunicorn with deploy/gunicorn.conf.py and two workers: whichever worker answers a scrape, it
    reports the requests every worker answered."""
    port = free_port()
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WEB_ACCESS_LOG": str(tmp_path / "access.log"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "METRICS_ALLOWED_NETWORKS": "127.0.0.0/8",
        # The test database: it has the tables the business figures read.
        "DATABASE_URL": database._replace(path="/" + connection.settings_dict["NAME"]).geturl(),
    }
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "marketsafe.wsgi"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    try:
        for _attempt in range(300):
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        # Concurrent requests until both workers have answered some (each writes its own file).
        sent = 1
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _round in range(20):
                sent += sum(status == 200 for status in pool.map(_get, [f"{base}/healthz"] * 40))
                if len(list((tmp_path / "prometheus").glob("counter_*.db"))) >= 2:
                    break
        assert len(list((tmp_path / "prometheus").glob("counter_*.db"))) >= 2, "both workers answered"

        counts = set()
        for _scrape in range(6):
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:  # noqa: S310
                families = text_string_to_metric_families(response.read().decode())
            counts.add(
                next(
                    sample.value
                    for family in families
                    for sample in family.samples
                    if sample.name == "marketsafe_http_requests_total" and sample.labels.get("view") == "healthz"
                )
            )
        assert counts == {sent}
    finally:
        server.terminate()
        server.wait(timeout=30)
