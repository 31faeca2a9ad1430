"""The keyset engine (core.pagination): every ordering walks every row once, forwards and back, through a
row comparison when the columns are NOT NULL and go one way, column by column otherwise (NULLs included)."""

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CaseItem
from core.pagination import InvalidCursor, keyset_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(file_case):
    file_case(7)
    now = timezone.now()
    items = list(CaseItem.objects.order_by("pk"))
    # Ties and NULLs: two items share a decision time, three have none.
    for n, item in enumerate(items[:4]):
        CaseItem.objects.filter(pk=item.pk).update(
            decided_at=now - timedelta(hours=n // 2), status="rejected", rejection_code="insufficient_evidence"
        )
    return items


def walk(queryset, size: int) -> tuple[list[int], list[int], list[str]]:
    """(ids forwards, ids backwards from the last page, SQL of every page query)."""
    with CaptureQueriesContext(connection) as captured:
        pages = [keyset_page(queryset, None, size)]
        while pages[-1].next_cursor:
            pages.append(keyset_page(queryset, pages[-1].next_cursor, size))
        back = [pages[-1]]
        while back[-1].previous_cursor:
            back.append(keyset_page(queryset, back[-1].previous_cursor, size))
    forwards = [row.pk for page in pages for row in page.rows]
    backwards = [row.pk for page in reversed(back) for row in page.rows]
    return forwards, backwards, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    ("ordering", "row_comparison"),
    [
        (("-submitted_at", "-pk"), True),
        (("sla_due_at", "pk"), True),
        (("status", "-submitted_at"), False),  # mixed directions
        (("decided_at",), False),  # nullable: NULLs last ascending
        (("-decided_at", "pk"), False),  # nullable, descending: NULLs first
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3])
def test_every_ordering_walks_every_row_once(items, ordering, row_comparison, size):
    queryset = CaseItem.objects.order_by(*ordering)
    expected = list(queryset.values_list("pk", flat=True)) if "pk" in ordering else None
    if expected is None:  # made total by the engine with the last column's direction
        tail = "-pk" if ordering[-1].startswith("-") else "pk"
        expected = list(CaseItem.objects.order_by(*ordering, tail).values_list("pk", flat=True))
    forwards, backwards, sql = walk(queryset, size)
    assert forwards == expected
    assert backwards == expected
    paged = [s for s in sql if "WHERE" in s]
    assert paged and all(("ROW(" in s) == row_comparison for s in paged)


def _edited(*values) -> str:
    """A cursor of the default item ordering with the given values, as someone editing one would write it."""
    payload = json.dumps(["-submitted_at,-id", "n", *values])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "bm90IGpzb24",
        "WyJ4Il0",
        "WyItc3VibWl0dGVkX2F0LC1pZCIsIm4iLCJ4IiwxXQ",
        _edited("2026-01-01 00:00:00+00:00", 10**30),  # beyond bigint
        _edited("2026-01-01 00:00:00", 1),  # a naive time
        _edited("2026-01-01 00:00:00+00:00", None),  # NULL for a NOT NULL column
        _edited("2026-01-01 00:00:00+00:00", "1\x00"),
        _edited("2026-01-01 00:00:00+00:00", 1, 2),  # one value too many
        _edited("yesterday", 1),
    ],
)
def test_a_bad_cursor_is_refused(items, cursor):
    queryset = CaseItem.objects.order_by("-submitted_at", "-pk")
    if not cursor:  # no cursor: the first page
        assert len(keyset_page(queryset, cursor, 2).rows) == 2
        return
    with pytest.raises(InvalidCursor):
        keyset_page(queryset, cursor, 2)


def test_an_edited_cursor_within_range_only_moves_the_position(items):
    queryset = CaseItem.objects.order_by("-submitted_at", "-pk")
    assert keyset_page(queryset, _edited("2999-01-01 00:00:00+00:00", 2**62), 50).rows == list(queryset)
