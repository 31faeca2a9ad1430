"""Pagination for lists over hundreds of thousands of rows.

Two ways, both with a cost that does not grow with the table:

- **Keyset** (`keyset_page`, `KeysetListMixin` for pages, `core.api.pagination.KeysetPagination` for the
  API): the cursor holds the ordering columns' values of the last row seen (and the primary key, which
  makes every ordering total), and the next page is the rows after them. No OFFSET and no COUNT(*): the
  deepest page costs what the first one costs, given an index that starts with the list's filter columns
  and follows its ordering. When every ordering column is NOT NULL and all go the same way, the condition
  is one row comparison, `(a, b, id) < (%s, %s, %s)`, which PostgreSQL answers with one index range
  scan; otherwise (a nullable column or mixed directions) it is spelled out column by column
  (`a < x OR (a = x AND (b > y OR …))`), with NULLs last ascending and first descending as PostgreSQL
  sorts them.
- **Capped OFFSET** (`CappedPaginator`) where page numbers matter and lists are short (a brand's rights,
  its webhook deliveries): COUNT over a LIMIT subquery, "10,000+" beyond the cap, and pages past the cap
  ask the user to narrow the filters (the page says so).

A cursor is opaque to clients (URL-safe base64 of JSON) and parsed strictly: a cursor that was tampered
with, belongs to another ordering or does not parse raises `InvalidCursor`, which the API answers with a
400 and the pages with their first page and a notice. A cursor only positions a list; it never widens the
scope of the queryset it is applied to.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Field, Func, Model, Q, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Without the list's ORDER BY: counting must not sort every matching row.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """True when there are more rows than the count shows."""
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return super().num_pages if not self.capped else -(-self.cap // self.per_page)


def capped_page_context(queryset: QuerySet, page_number: Any, per_page: int) -> dict[str, Any]:
    """What a page listing `queryset` through a `CappedPaginator` puts in its context: the page's rows as
    `object_list`, and `page_obj`, `paginator`, `is_paginated` for `brands/includes/pagination.html`."""
    paginator = CappedPaginator(queryset, per_page)
    page = paginator.get_page(page_number)
    return {
        "object_list": page.object_list,
        "page_obj": page,
        "paginator": paginator,
        "is_paginated": paginator.num_pages > 1,
    }


# --- keyset ---------------------------------------------------------------------------------------


class InvalidCursor(ValueError):
    """A cursor that was not made by `encode_cursor` for this ordering."""


@dataclass(frozen=True)
class Key:
    """One column of a keyset ordering."""

    name: str
    descending: bool
    field: Field = field(compare=False)

    @property
    def nullable(self) -> bool:
        return self.field.null

    def order_by(self, *, reverse: bool = False) -> str:
        return f"{'-' if self.descending != reverse else ''}{self.name}"


def _model_field(model: type[Model], path: str) -> Field:
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(parts[-1])


def ordering_keys(queryset: QuerySet) -> list[Key]:
    """The queryset's ordering as keys, made total with the primary key (in the last column's direction)."""
    terms: list[tuple[str, bool]] = []
    for term in queryset.query.order_by or queryset.model._meta.ordering or ():
        if isinstance(term, str):
            terms.append((term.lstrip("-"), term.startswith("-")))
        else:  # an OrderBy expression of a plain column
            if not isinstance(term.expression, F):
                raise TypeError(f"Cannot paginate by {term!r}")
            terms.append((term.expression.name, term.descending))
    pk = queryset.model._meta.pk.name
    terms = [(pk if name == "pk" else name, descending) for name, descending in terms]
    if pk not in {name for name, _ in terms}:
        terms.append((pk, terms[-1][1] if terms else False))
    return [Key(name, descending, _model_field(queryset.model, name)) for name, descending in terms]


class _Row(Func):
    function = "ROW"
    output_field = Field()


def after(keys: list[Key], values: list[Any], *, reverse: bool = False) -> Q:
    """Rows strictly after `values` in the order of `keys` (before them when `reverse`)."""
    directions = {key.descending != reverse for key in keys}
    if len(directions) == 1 and not any(key.nullable for key in keys):
        # One row comparison: an index on (filter columns…, a, b, id) serves it as a single range.
        compare = LessThan if directions.pop() else GreaterThan
        columns = _Row(*(F(key.name) for key in keys))
        bound = _Row(*(Value(value, output_field=key.field) for key, value in zip(keys, values, strict=True)))
        return Q(compare(columns, bound))
    condition = Q(pk__in=[])
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        descending = key.descending != reverse
        if value is None:
            beyond = Q(**{f"{key.name}__isnull": False}) if descending else Q(pk__in=[])
            same = Q(**{f"{key.name}__isnull": True})
        else:
            beyond = Q(**{f"{key.name}__{'lt' if descending else 'gt'}": value})
            if not descending:
                beyond |= Q(**{f"{key.name}__isnull": True})
            same = Q(**{key.name: value})
        condition |= equal & beyond
        equal &= same
    return condition


def _signature(keys: list[Key]) -> str:
    return ",".join(key.order_by() for key in keys)


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, int | str) else str(value)


def encode_cursor(keys: list[Key], values: list[Any], *, reverse: bool = False) -> str:
    payload = [_signature(keys), "p" if reverse else "n", *map(_jsonable, values)]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: list[Key]) -> tuple[list[Any], bool]:
    """(values, reverse) of a cursor made by `encode_cursor` for these keys; `InvalidCursor` otherwise."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    if (
        not isinstance(payload, list)
        or len(payload) != len(keys) + 2
        or payload[0] != _signature(keys)
        or payload[1] not in ("n", "p")
    ):
        raise InvalidCursor(cursor)
    try:
        values = [None if v is None else key.field.to_python(v) for key, v in zip(keys, payload[2:], strict=True)]
    except (ValidationError, TypeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    if not all(_storable(key, value) for key, value in zip(keys, values, strict=True)):
        raise InvalidCursor(cursor)
    return values, payload[1] == "p"


def _storable(key: Key, value: Any) -> bool:
    """Whether the database can compare `value` with the key's column: an edited cursor must answer 400,
    not a database error (an integer out of the column's range, a NUL in a string, a naive time)."""
    if value is None:
        return key.nullable
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = connection.ops.integer_field_range(key.field.get_internal_type())
        return (low is None or value >= low) and (high is None or value <= high)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, datetime):
        return timezone.is_aware(value)
    return True


def _value(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = getattr(row, part)
    return row


@dataclass
class KeysetPage:
    rows: list[Any]
    #: Cursors of the pages after and before this one (None at either end).
    next_cursor: str | None
    previous_cursor: str | None


def keyset_page(queryset: QuerySet, cursor: str | None, size: int) -> KeysetPage:
    """The `size` rows after (or, for a "previous" cursor, before) the cursor's position: one query."""
    keys = ordering_keys(queryset)
    reverse = False
    if cursor:
        values, reverse = decode_cursor(cursor, keys)
        queryset = queryset.filter(after(keys, values, reverse=reverse))
    # The full ordering, primary key included: ties must come in the order the cursor assumes.
    queryset = queryset.order_by(*(key.order_by(reverse=reverse) for key in keys))
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    if not rows:
        return KeysetPage(rows, None, None)

    def at(row: Any, *, before: bool) -> str:
        return encode_cursor(keys, [_value(row, key.name) for key in keys], reverse=before)

    has_next = more if not reverse else True  # a "previous" page was reached from the page after it
    has_previous = bool(cursor) and (more if reverse else True)
    return KeysetPage(
        rows,
        next_cursor=at(rows[-1], before=False) if has_next else None,
        previous_cursor=at(rows[0], before=True) if has_previous else None,
    )


@dataclass
class KeysetPageLinks:
    """What a page template needs: has_next/has_previous and the links, filters kept."""

    next_url: str | None
    previous_url: str | None
    first_url: str | None
    rows: int

    @property
    def has_next(self) -> bool:
        return self.next_url is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_url is not None


class KeysetListMixin:
    """For a `ListView`: pages by keyset (`?cursor=`) instead of page numbers, with no COUNT(*).

    The context gets `page_obj` (a `KeysetPageLinks`), `is_paginated`, and `cursor_invalid` when the
    requested cursor was not valid (the first page is shown instead, with a notice).
    """

    request: HttpRequest
    paginate_by: int
    cursor_query_param = "cursor"
    cursor_invalid = False

    def _link(self, cursor: str | None) -> str:
        query = self.request.GET.copy()
        query.pop(self.cursor_query_param, None)
        query.pop("page", None)
        if cursor:
            query[self.cursor_query_param] = cursor
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else self.request.path

    def paginate_queryset(self, queryset: QuerySet, page_size: int) -> tuple[None, KeysetPageLinks, list, bool]:
        cursor = self.request.GET.get(self.cursor_query_param) or None
        self.cursor_invalid = False
        try:
            page = keyset_page(queryset, cursor, page_size)
        except InvalidCursor:
            self.cursor_invalid = True
            page = keyset_page(queryset, None, page_size)
        links = KeysetPageLinks(
            next_url=self._link(page.next_cursor) if page.next_cursor else None,
            previous_url=self._link(page.previous_cursor) if page.previous_cursor else None,
            # Also on an empty page past the end (rows deleted since the link was made).
            first_url=self._link(None) if cursor and not self.cursor_invalid else None,
            rows=len(page.rows),
        )
        return None, links, page.rows, links.has_next or links.has_previous

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["cursor_invalid"] = self.cursor_invalid
        return context
