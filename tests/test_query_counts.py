"""Query-count baselines of the brand portal's list pages and the API's lists (as NetBox's
`query_counts.json`): every list runs the same number of queries with 1 row as with 30 (no N+1), and no
more than tests/query_counts.json allows, so a query added to a list fails the suite.

After a change that really needs another query (or saves one), rewrite the file and commit it:

    UPDATE_QUERY_COUNTS=1 pytest tests/test_query_counts.py

The 30-row lists mix item statuses (rejected, accepted, reinstated) so that a lookup needed by one status
only shows up as a difference too.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import BrandMembership, IPRight
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import Case, CaseItem
from investigations.models import TestPurchase
from tests import factories
from tests.api_harness import token_client

pytestmark = pytest.mark.django_db

BASELINE_FILE = Path(__file__).with_name("query_counts.json")
ROWS = (1, 30)


@dataclass(frozen=True)
class ListEndpoint:
    name: str
    url: Callable[[Any], str]
    #: "page" (the owner signed in) or "api" (the owner's token)
    kind: str
    #: make(rows, ctx) adds rows until the list has `rows`
    make: Callable[[int, dict[str, Any]], None]
    #: rows a page shows at most (30 rows fit on the first page of every list but the rights page)
    page_size: int = 50


def _items(rows: int, ctx: dict[str, Any]) -> None:
    if rows <= CaseItem.objects.count():
        return
    case = ctx["file_case"](rows - CaseItem.objects.count())
    if rows > 1:
        items = list(case.items.order_by("pk")[:3])
        for item, status in zip(items, (ItemStatus.REJECTED, ItemStatus.ACCEPTED, ItemStatus.REINSTATED), strict=True):
            drive_item_to(item, status, moderator=ctx["moderator"], brand_user=ctx["reporter"])


def _cases(rows: int, ctx: dict[str, Any]) -> None:
    for _ in range(rows - Case.objects.count()):
        ctx["file_case"](1)


def _rights(rows: int, ctx: dict[str, Any]) -> None:
    for number in range(rows - IPRight.objects.count()):
        factories.IPRightFactory(brand=ctx["brand"], name=f"Mark {number}")


def _purchases(rows: int, ctx: dict[str, Any]) -> None:
    for number in range(TestPurchase.objects.count(), rows):
        TestPurchase.objects.create(
            brand=ctx["brand"],
            listing=factories.ListingFactory(),
            order_id=f"QC-{number}",
            purchased_on=date(2026, 1, 2),
            recorded_by=ctx["reporter"],
        )


ENDPOINTS = [
    ListEndpoint("page cases:item_list", lambda b: reverse("cases:item_list", args=[b.slug]), "page", _items),
    ListEndpoint("page cases:case_list", lambda b: reverse("cases:case_list", args=[b.slug]), "page", _cases),
    ListEndpoint("page brands:right_list", lambda b: reverse("brands:right_list", args=[b.slug]), "page", _rights, 25),
    ListEndpoint("api cases-api:item-list", lambda b: reverse("cases-api:item-list"), "api", _items),
    ListEndpoint("api cases-api:case-list", lambda b: reverse("cases-api:case-list"), "api", _cases),
    ListEndpoint("api brands-api:ip-right-list", lambda b: reverse("brands-api:ip-right-list"), "api", _rights),
    ListEndpoint(
        "page investigations:purchase_list",
        lambda b: reverse("investigations:purchase_list", args=[b.slug]),
        "page",
        _purchases,
        25,
    ),
    ListEndpoint(
        "api investigations-api:test-purchase-list",
        lambda b: reverse("investigations-api:test-purchase-list"),
        "api",
        _purchases,
    ),
]


def load_baseline() -> dict[str, dict[str, int]]:
    return json.loads(BASELINE_FILE.read_text())


def count_queries(client: Client, url: str, rows: int) -> int:
    """The queries of one GET of `url`, after a first GET that warms per-process caches."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    listed = response.json()["results"] if url.startswith("/api/") else response.context["object_list"]
    assert len(listed) == rows
    return len(captured.captured_queries)


def check(endpoint: ListEndpoint, counts: dict[int, int], baseline: dict[str, dict[str, int]]) -> None:
    """Fails when a list runs more queries than its baseline, or more with 30 rows than with 1."""
    allowed = baseline[endpoint.name]
    assert counts[30] == counts[1], f"{endpoint.name}: {counts[1]} queries for 1 row but {counts[30]} for 30 (N+1)"
    for rows, count in counts.items():
        assert count <= allowed[str(rows)], (
            f"{endpoint.name} with {rows} rows ran {count} queries; its baseline allows {allowed[str(rows)]}. "
            "Remove the query, or justify it and run UPDATE_QUERY_COUNTS=1 pytest tests/test_query_counts.py"
        )


@pytest.fixture
def measure(brand, owner, reporter, moderator, right, file_case, marketplace) -> Callable[..., dict]:
    """measure(endpoint, variants) → {variant: {rows: queries}}: each variant (a function run before each
    count, e.g. to patch something in) counted with 1 row and with 30 (rows are added in between)."""

    def run(endpoint: ListEndpoint, variants: dict[str, Callable[[], None]]) -> dict[str, dict[int, int]]:
        if endpoint.kind == "page":
            client = Client()
            client.force_login(owner)
        else:
            client = token_client(BrandMembership.objects.get(user=owner, brand=brand))
        ctx = {"brand": brand, "file_case": file_case, "moderator": moderator, "reporter": reporter}
        counts: dict[str, dict[int, int]] = {name: {} for name in variants}
        for rows in ROWS:
            endpoint.make(rows, ctx)
            for name, prepare in variants.items():
                prepare()
                counts[name][rows] = count_queries(client, endpoint.url(brand), min(rows, endpoint.page_size))
        return counts

    return run


def test_the_baseline_file_names_every_list_with_equal_counts():
    baseline = load_baseline()
    assert set(baseline) == {endpoint.name for endpoint in ENDPOINTS}
    for name, counts in baseline.items():
        assert set(counts) == {str(rows) for rows in ROWS}, name
        assert len(set(counts.values())) == 1, f"{name}: the baseline itself has an N+1"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_list_queries_stay_at_their_baseline(endpoint, measure):
    counts = measure(endpoint, {"as is": lambda: None})["as is"]
    if os.environ.get("UPDATE_QUERY_COUNTS"):
        baseline = load_baseline() if BASELINE_FILE.exists() else {}
        baseline[endpoint.name] = {str(rows): count for rows, count in counts.items()}
        BASELINE_FILE.write_text(json.dumps(dict(sorted(baseline.items())), indent=2) + "\n")
    check(endpoint, counts, load_baseline())


def test_an_added_query_fails_the_check(measure, monkeypatch):
    """The meta-test: one more query per request, or one per row, is caught."""
    from cases.views import list_rows

    real_rows = list_rows.item_rows

    def rows_with_a_query_per_row(items, **kwargs):
        items = list(items)
        for item in items:
            Case.objects.get(pk=item.case_id)  # the case is not joined: a query for each row
        return real_rows(items, **kwargs)

    def rows_with_one_more_query(items, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return real_rows(items, **kwargs)

    def rendering_with(function):
        return lambda: monkeypatch.setattr("cases.views.lists.CaseItemListView.render_rows", function)

    endpoint = ENDPOINTS[0]
    counts = measure(
        endpoint,
        {
            "as is": rendering_with(real_rows),
            "per row": rendering_with(rows_with_a_query_per_row),
            "one more": rendering_with(rows_with_one_more_query),
        },
    )
    baseline = load_baseline()
    check(endpoint, counts["as is"], baseline)  # passes as it is
    with pytest.raises(AssertionError, match="N\\+1"):
        check(endpoint, counts["per row"], baseline)
    with pytest.raises(AssertionError, match="baseline allows"):
        check(endpoint, counts["one more"], baseline)
