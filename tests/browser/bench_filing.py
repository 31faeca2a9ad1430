"""Benchmark (not part of the suite: pytest collects test_*.py only): from the click to the page a user
waits for, filing 1,000 pasted listing URLs in a real browser while a real Celery worker checks and files
them. Prints the figures; asserts only that the flow completed. docs/performance.md, "Filing".

    .venv/bin/python -m devtools.devenv exec -- .venv/bin/python -m pytest -q -s -p no:randomly \\
        tests/browser/bench_filing.py

The preview is measured with the progress page's quick first polls (`poll_delay_ms`) and with a fixed
one-second poll as before, for comparison; the filing of each quickly polled preview.
"""

import re
import statistics
import time

import pytest
from playwright.sync_api import expect

from cases.views import filing as filing_views
from tests.browser.test_filing import acme, fill_case  # noqa: F401 (fixture)
from tests.workers import running_worker

ROWS = 1_000
RUNS = 3


def preview(page, base: str, prefix: str) -> float:
    """Seconds from the click on Preview to the preview of ROWS new listing URLs."""
    page.goto(f"{base}/b/acme/cases/new/")
    fill_case(page, urls="\n".join(f"https://shopnow.example/item/{prefix}{n}" for n in range(ROWS)))
    started = time.perf_counter()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-counts")).to_contain_text(f"{ROWS} of {ROWS} listings", timeout=60_000)
    return time.perf_counter() - started


def file_previewed(page) -> float:
    """Seconds from the click on File to the case's page."""
    started = time.perf_counter()
    page.get_by_role("button", name=re.compile(r"^File [\d,]+ listings$")).click()
    page.wait_for_url(re.compile(r"/b/acme/cases/(\d+|new/[^/]+)/$"), timeout=60_000)
    elapsed = time.perf_counter() - started
    assert re.search(r"/cases/\d+/$", page.url), page.locator("main").inner_text()[:300]
    return elapsed


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_filing_benchmark(login, live_server, acme, settings, monkeypatch):  # noqa: F811
    settings.MARKETSAFE = {**settings.MARKETSAFE, "IMPORT_INLINE_MAX_ROWS": 5}
    page = login("rita")
    quick, slow = filing_views.POLL_SCHEDULE, ()
    previews: dict[str, list[float]] = {"quick first polls": [], "one poll a second": []}
    filings: list[float] = []
    with running_worker():
        # The first filing warms the worker and the server up and is not counted. Prefixes end in "x": the
        # marketplace's listing id pattern is /item/(\w+), so a "-" would cut every id to the prefix and make
        # the rows name one listing (what an earlier version of this benchmark did, and then took for a bug).
        preview(page, live_server.url, "warmx")
        file_previewed(page)
        for run in range(RUNS):
            monkeypatch.setattr(filing_views, "POLL_SCHEDULE", quick)
            previews["quick first polls"].append(preview(page, live_server.url, f"q{run}x"))
            filings.append(file_previewed(page))
            monkeypatch.setattr(filing_views, "POLL_SCHEDULE", slow)
            previews["one poll a second"].append(preview(page, live_server.url, f"s{run}x"))
    print(f"\n{ROWS:,} rows, seconds from the click (median, min-max of {RUNS} runs):")
    for name, runs in previews.items():
        print(f"  preview, {name:<18} {statistics.median(runs):.2f} ({min(runs):.2f}-{max(runs):.2f})")
    print(f"  filing, quick first polls     {statistics.median(filings):.2f} ({min(filings):.2f}-{max(filings):.2f})")
    assert all(len(runs) == RUNS for runs in previews.values()) and len(filings) == RUNS
