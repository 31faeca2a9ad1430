"""Load test: the production stack under a mix of what its users do at once (issue 15, point 7).

Run with the services of devenv (embedded or configured PostgreSQL and Redis)::

    .venv/bin/python -m devtools.devenv exec -- .venv/bin/python -m devtools.loadtest [--seconds 60] [--clients 8]

It migrates and seeds the demo data, collects the static files and starts gunicorn with deploy/gunicorn.conf.py
and production settings (DEBUG off, plain HTTP on loopback, staff two-factor sign-in off so the demo
moderator signs in with a password, throttles raised: the server is measured, not the throttle). Then
`--clients` threads, each with its own HTTP connection and sign-ins, send requests for `--seconds` seconds,
each picking its next request from a weighted mix:

- brand pages: the dashboard, the case list and the item list of the demo brand (a reporter's session);
- the moderators' review queue in the admin (the demo moderator's session);
- brand API reads: the case and case-item lists (a brand API token);
- platform upserts: 100 listings per request, new external ids each time (the demo service token).

It prints, per endpoint, the requests, requests per second, p50/p95/p99 latency and non-2xx answers, then
checks the server's own count: the `/metrics` request counter (summed over gunicorn's workers) must have
grown by at least as many requests as the clients made. Nothing here asserts a speed; issue 16 sets the
targets (docs/performance.md, "Load test").
"""

import argparse
import itertools
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from devtools.bench_web import SERVICE_TOKEN, _production_env, _wait_ready
from devtools.devenv import PROJECT_ROOT, free_port

DEMO_PASSWORD = "marketsafe-demo"  # seed_demo's documented demo password  # noqa: S105
BRAND = "acme"


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[name].append(seconds * 1000)
            if status >= 400:
                self.errors[name] += 1


def sign_in(client: httpx.Client, username: str) -> None:
    """A session of `username` on `client`, through the login form as a browser would."""
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/accounts/login/",
        data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{client.base_url}/accounts/login/"},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{username} could not sign in: {answer.status_code}")


def api_token(base: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token/",
        json={"username": "reporter", "password": DEMO_PASSWORD, "brand": BRAND, "name": "load test"},
    )
    answer.raise_for_status()
    return answer.json()["token"]


def upsert_body(run: str, counter: itertools.count) -> dict:
    start = next(counter) * 100
    return {
        "listings": [
            {
                "external_id": f"LT{run}{n:08d}",
                "url": f"https://shopnow.example/item/LT{run}{n:08d}",
                "title": f"Load test listing {n}",
                "price": "19.99",
                "currency": "EUR",
            }
            for n in range(start, start + 100)
        ]
    }


def client_loop(base: str, token: str, deadline: float, results: Results, seed: int) -> None:
    """One user agent: its own connections and sessions, requests from the mix until the deadline."""
    brand = httpx.Client(base_url=base, timeout=30)
    moderator = httpx.Client(base_url=base, timeout=30)
    api = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Token {token}"})
    platform = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    sign_in(brand, "reporter")
    sign_in(moderator, "moderator")
    run, counter = f"{seed:02d}{secrets.token_hex(3)}", itertools.count()
    mix: list[tuple[str, int, Callable[[], httpx.Response]]] = [
        ("brand: dashboard", 2, lambda: brand.get(f"/b/{BRAND}/dashboard/")),
        ("brand: case list", 3, lambda: brand.get(f"/b/{BRAND}/cases/")),
        ("brand: item list", 3, lambda: brand.get(f"/b/{BRAND}/items/")),
        ("admin: review queue", 3, lambda: moderator.get("/admin/cases/caseitem/")),
        ("api: cases", 3, lambda: api.get("/api/v1/cases/")),
        ("api: case items", 3, lambda: api.get("/api/v1/case-items/")),
        (
            "platform: upsert 100 listings",
            1,
            lambda: platform.post("/api/v1/platform/listings/bulk/", json=upsert_body(run, counter)),
        ),
    ]
    names = [name for name, weight, _ in mix for _ in range(weight)]
    calls = {name: call for name, _, call in mix}
    order = itertools.cycle(names[seed % len(names) :] + names[: seed % len(names)])
    try:
        while time.monotonic() < deadline:
            name = next(order)
            started = time.perf_counter()
            answer = calls[name]()
            results.record(name, time.perf_counter() - started, answer.status_code)
    finally:
        for client in (brand, moderator, api, platform):
            client.close()


def server_request_count(base: str, metrics_token: str) -> float:
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).text
    return sum(
        float(value)
        for value in re.findall(
            r'^marketsafe_http_requests_total\{[^}]*view="(?!metrics")[^"]*"[^}]*\} ([\d.e+]+)$', text, re.M
        )
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args()
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([*manage, *step], check=True, cwd=PROJECT_ROOT, capture_output=True)  # noqa: S603
    port = free_port()
    metrics_token = secrets.token_urlsafe(32)
    env = {
        **_production_env(port),
        "STAFF_REQUIRE_2FA": "off",
        "API_THROTTLE_RATE": "100000000/minute",
        "API_AUTH_THROTTLE_RATE": "1000/minute",
        "METRICS_TOKEN": metrics_token,
        "WEB_CONCURRENCY": str(args.workers),
    }
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], check=True, cwd=PROJECT_ROOT, env=env)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--workers", str(args.workers)]
    server = subprocess.Popen([*command, "marketsafe.wsgi"], cwd=PROJECT_ROOT, env=env)  # noqa: S603
    try:
        _wait_ready(f"{base}/healthz")
        token = api_token(base)
        before = server_request_count(base, metrics_token)
        results = Results()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(base, token, deadline, results, n)) for n in range(args.clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        after = server_request_count(base, metrics_token)
    finally:
        server.terminate()
        server.wait(timeout=30)
    made = sum(len(values) for values in results.latencies.values())
    print(
        f"\n{args.clients} clients, {args.seconds} s, gunicorn with {args.workers} workers; "
        f"load average {os.getloadavg()[0]:.1f}; {made:,} requests, {made / elapsed:.1f} req/s in all"
    )
    print(f"{'endpoint':<32} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, values in sorted(results.latencies.items()):
        print(
            f"{name:<32} {len(values):>8} {len(values) / elapsed:>7.1f} {statistics.median(values):>8.1f} "
            f"{percentile(values, 0.95):>8.1f} {percentile(values, 0.99):>8.1f} {results.errors[name]:>8}"
        )
    # The sign-ins, token and scrapes are requests too: the server counted at least the timed ones.
    print(f"server's request counter grew by {after - before:,.0f} (timed requests: {made:,})")
    if after - before < made:
        print("the server counted fewer requests than the clients made", file=sys.stderr)
        return 1
    return 1 if sum(results.errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
