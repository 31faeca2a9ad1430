"""Prometheus metrics: the request counters, the Celery queue depths, and the `/metrics` endpoint.

- `RequestMetricsMiddleware` counts every request and times it, labelled by the URL pattern's view name
  (never the raw path: ids and slugs would make one series per object), the method and the status.
- `QueueDepthCollector` reads the length of each Celery queue's Redis list at scrape time.
- `metrics_view` answers only a scraper on one of `METRICS_ALLOWED_NETWORKS` (the client address found
  behind `TRUSTED_PROXY_COUNT` proxies, as the login lockout finds it) or one sending
  `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets the ordinary 404, so the endpoint is not
  even seen to exist. Nothing configured means nobody reaches it (development allows loopback).
- The collectors named in `METRICS_COLLECTORS` (dotted paths, so this core module names no app) are
  computed at scrape time, by the one process that answers the scrape.

Under gunicorn each worker is a process of its own: with `PROMETHEUS_MULTIPROC_DIR` set (see
deploy/gunicorn.conf.py), prometheus_client keeps every process's counters in files in that directory and
a scrape sums them, whichever worker answers it.
"""

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from celery import current_app
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.accounts.lockout import client_ip

logger = logging.getLogger(__name__)

#: The shortest `METRICS_TOKEN` accepted: a shorter one is ignored (with a warning), as if unset.
MIN_TOKEN_LENGTH = 32
#: Methods counted under their own name; anything else is "other" (a client may send any word).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The label of a request that matched no URL pattern (a 404, or refused by a middleware first).
UNMATCHED = "<unmatched>"

# Request metrics live in a registry of their own: a scrape exposes them from this process, or from every
# process's files in multiprocess mode, never twice.
_process_registry = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "marketsafe_http_requests",
    "HTTP requests answered, by URL pattern name, method and status.",
    ["view", "method", "status"],
    registry=_process_registry,
)
LATENCY = Histogram(
    "marketsafe_http_request_duration_seconds",
    "Time from the request entering the middleware stack to the response leaving it, by URL pattern name.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=_process_registry,
)


def view_label(request: HttpRequest) -> str:
    """The URL pattern's name ("cases:case_detail"), its route when it has no name, or UNMATCHED."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match.route or UNMATCHED


class RequestMetricsMiddleware:
    """First in MIDDLEWARE: times the whole stack, including requests a later middleware refuses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = view_label(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        LATENCY.labels(view=view, method=method).observe(elapsed)
        return response


def celery_queue_names() -> list[str]:
    """Every queue the app knows: the default one, the declared ones, those named by routes, and the
    readiness check's list."""
    conf = current_app.conf
    names = {conf.task_default_queue, *settings.READINESS_QUEUES}
    names.update(queue.name for queue in conf.task_queues or ())
    routes = conf.task_routes
    # A dict of routes, or a list of them (routers that are functions or classes cannot be listed).
    for table in [routes] if isinstance(routes, dict) else list(routes or ()):
        if isinstance(table, dict):
            names.update(route["queue"] for route in table.values() if isinstance(route, dict) and "queue" in route)
    return sorted(name for name in names if name)


class QueueDepthCollector(Collector):
    """Messages waiting in each Celery queue (the Redis lists, with their priority lists), read at scrape
    time in one pipeline. An unreachable broker is reported as `marketsafe_broker_up 0`, not as an error."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("marketsafe_broker_up", "1 when the broker answered this scrape.")
        depth = GaugeMetricFamily(
            "marketsafe_queue_depth",
            "Messages waiting in a Celery queue (not yet taken by a worker).",
            labels=["queue"],
        )
        queues = celery_queue_names()
        try:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                channel = connection.channel()
                steps = [step for step in channel.priority_steps if step]
                pipe = channel.client.pipeline()
                for queue in queues:
                    for key in [queue, *(f"{queue}{channel.sep}{step}" for step in steps)]:
                        pipe.llen(key)
                lengths = pipe.execute()
        except Exception:  # the scrape must still answer: the gauge says the broker is down
            logger.warning("Metrics: the broker did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        per_queue = len(steps) + 1
        for index, queue in enumerate(queues):
            depth.add_metric([queue], sum(lengths[index * per_queue : (index + 1) * per_queue]))
        yield up
        yield depth


class _ProcessMetrics(Collector):
    """This process's request metrics, for a registry built per scrape."""

    def collect(self) -> Iterable:
        return _process_registry.collect()


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: the request metrics (every process's, in multiprocess mode) and the
    collectors of `METRICS_COLLECTORS`."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    for path in settings.METRICS_COLLECTORS:
        registry.register(import_string(path)())
    return registry


@cache
def _networks(configured: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in configured)


def _token() -> str | None:
    token = settings.METRICS_TOKEN
    if token and len(token) < MIN_TOKEN_LENGTH:
        logger.warning("METRICS_TOKEN is shorter than %d characters and is ignored", MIN_TOKEN_LENGTH)
        return None
    return token or None


def scraper_allowed(request: HttpRequest) -> bool:
    """From an allowed network, or with the bearer token (compared in constant time)."""
    token = _token()
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
        return True
    address = client_ip(request)
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scraper_allowed(request):
        raise Http404
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
