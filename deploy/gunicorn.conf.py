"""gunicorn's configuration for the portal's web processes (README, "Running in production").

`gunicorn -c deploy/gunicorn.conf.py marketsafe.wsgi` reads everything from here; each value can be
overridden by the environment variable named next to it, so one file serves a laptop and a host.

Why these values:
- sync workers, 2 per core + 1: the views are short and database-bound, and Django's ORM is synchronous;
  the measured comparison with granian is in docs/performance.md ("Web server").
- `max_requests` with jitter recycles a worker now and then, so a slow leak never grows unbounded.
- `timeout` kills a worker stuck longer than any page should take (uploads are capped before the body
  is read); `graceful_timeout` lets in-flight requests finish on reload (SIGHUP) and on stop (SIGTERM).
- `forwarded_allow_ips`: X-Forwarded-* headers are trusted only from the one reverse proxy in front
  (its address in FORWARDED_ALLOW_IPS; loopback by default), the same proxy TRUSTED_PROXY_COUNT counts.
- The access log is one line per request with the time taken, for the log shipper.
- Prometheus multiprocess mode: each worker writes its request counters to files in
  PROMETHEUS_MULTIPROC_DIR and `/metrics` sums them, whichever worker answers the scrape (core/metrics.py).
  The directory is emptied when the server starts (stale files would add a previous run's counts) and a
  dead worker's files are marked so (`child_exit`); without the variable a fresh temporary one is made.
"""

import multiprocessing
import os
import tempfile
from pathlib import Path

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Requests whose line or headers are larger are refused before Django sees them.
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
# Remote address, time, request line, status, bytes, duration in microseconds, user agent.
access_log_format = '%({x-forwarded-for}i)s %(h)s %(t)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'
# The app is loaded in each worker after the fork: database connections and the Celery producer pool are
# never shared between processes.
preload_app = False

# Set here, in the arbiter, before any worker imports prometheus_client: the workers inherit it.
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="marketsafe-prometheus-")
)


def on_starting(server) -> None:
    directory = Path(PROMETHEUS_MULTIPROC_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
