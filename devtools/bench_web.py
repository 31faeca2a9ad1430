"""Benchmark: the portal behind gunicorn and behind granian, measured in the same run (issue 15, point 1).

Run with the services of devenv (embedded or configured PostgreSQL and Redis)::

    .venv/bin/python -m devtools.devenv exec -- .venv/bin/python -m devtools.bench_web [--seconds 10]

It migrates and seeds the demo data (development mode), collects the static files, then for each server
(same number of worker processes, production settings, DEBUG off) and each endpoint runs `wrk` (Debian's
package) for a few seconds, twice, alternating the servers so that a noisy machine loads both alike, and
prints requests per second and latency percentiles. granian runs one blocking thread per worker, as
gunicorn's sync workers do: with its default of several, each thread holds its own database connection
and the first run exhausted PostgreSQL's connection slots. Endpoints: the login page (a template, no database),
the platform API's decision feed with a demo service token (database reads, DRF rendering), a static
file through whitenoise, and the liveness endpoint.
"""

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request

from devtools.devenv import PROJECT_ROOT, free_port

SERVICE_TOKEN = "mst_demoshopnow_marketsafe-demo"  # the demo's service token (seed_demo)  # noqa: S105


def _production_env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "MARKETSAFE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SELLER_IDENTIFIER_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HTTPS_ONLY": "off",  # plain HTTP on loopback: no redirect to https
        "LOG_LEVEL": "ERROR",
        "PLATFORM_API_RATE": "100000000/min",  # measure the server, not the throttle
        "WEB_ACCESS_LOG": "/dev/null",
        "PORT": str(port),
    }


def _servers(workers: int, port: int) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "gunicorn": [
            python,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--workers",
            str(workers),
            "marketsafe.wsgi",
        ],
        "granian": [
            python,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-ws",
            "marketsafe.wsgi:application",
        ],
    }


def _wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout:.0f} s")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def _wrk(url: str, seconds: int, headers: list[str]) -> dict[str, float]:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", *[arg for h in headers for arg in ("-H", h)], url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    latency = dict(re.findall(r"^\s*(50|90|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s))\s*$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint and round")
    parser.add_argument("--workers", type=int, default=4, help="worker processes of each server")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 1
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([*manage, *step], check=True, cwd=PROJECT_ROOT, capture_output=True)  # noqa: S603
    port = free_port()
    env = _production_env(port)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], check=True, cwd=PROJECT_ROOT, env=env)  # noqa: S603
    manifest = (PROJECT_ROOT / "staticfiles" / "staticfiles.json").read_text()
    css = re.search(r'"css/marketsafe.css": "([^"]+)"', manifest).group(1)
    base = f"http://127.0.0.1:{port}"
    endpoints = {
        "login page": (f"{base}/accounts/login/", []),
        "platform decisions": (f"{base}/api/v1/platform/decisions/", [f"Authorization: Bearer {SERVICE_TOKEN}"]),
        "static css": (f"{base}/static/{css}", ["Accept-Encoding: gzip, br"]),
        "liveness": (f"{base}/healthz", []),
    }
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_number in range(args.rounds):
        names = list(_servers(args.workers, port))
        for name in names if round_number % 2 == 0 else reversed(names):
            server = subprocess.Popen(_servers(args.workers, port)[name], cwd=PROJECT_ROOT, env=env)  # noqa: S603
            try:
                _wait_ready(f"{base}/healthz")
                for endpoint, (url, headers) in endpoints.items():
                    results.setdefault((name, endpoint), []).append(_wrk(url, args.seconds, headers))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(
        f"\n{args.workers} worker processes each, wrk -t2 -c16, {args.seconds} s x {args.rounds} rounds; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'endpoint':<20} {'server':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for (name, endpoint), runs in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
        rps = sum(r["rps"] for r in runs) / len(runs)
        p50 = sum(r["p50"] for r in runs) / len(runs)
        p99 = max(r["p99"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        print(f"{endpoint:<20} {name:<9} {rps:>8.0f} {p50:>8.1f} {p99:>8.1f} {errors:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
