"""Keyset ("cursor") pagination for API lists of hundreds of thousands of rows.

DRF's CursorPagination follows one field and cannot follow a FilterSet's ordering. This one follows
whatever ordering the queryset ends with (the FilterSets' `StableOrderingFilter` always ends with the
primary key, so the ordering is total): the cursor holds the last row's values of the ordering
columns, and the next page is the rows after them, `WHERE (a, b, id) > (…)` spelled out per column and
direction (NULLs sort last ascending, first descending, as PostgreSQL does). No OFFSET, no COUNT(*): a
page deep in the list costs what the first one costs.
"""

import base64
import binascii
import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, Q, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def _ordering(queryset: QuerySet) -> list[tuple[str, bool]]:
    """(field, descending) of the queryset's ordering, made total with the primary key."""
    fields: list[tuple[str, bool]] = []
    for term in queryset.query.order_by or queryset.model._meta.ordering or ():
        if isinstance(term, str):
            fields.append((term.lstrip("-"), term.startswith("-")))
        else:  # an OrderBy expression of a plain column
            expression = term.expression
            if not isinstance(expression, F):
                raise TypeError(f"Cannot paginate by {term!r}")
            fields.append((expression.name, term.descending))
    names = {name for name, _ in fields}
    if not names & {"pk", "id"}:
        fields.append(("pk", fields[-1][1] if fields else False))
    return fields


def _after(fields: list[tuple[str, bool]], values: list[Any]) -> Q:
    """Rows strictly after `values` in the order of `fields`."""
    condition = Q(pk__in=[])
    equal = Q()
    for (name, descending), value in zip(fields, values, strict=True):
        if value is None:
            beyond = Q(**{f"{name}__isnull": False}) if descending else Q(pk__in=[])
            same = Q(**{f"{name}__isnull": True})
        else:
            beyond = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            if not descending:
                beyond |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        condition |= equal & beyond
        equal &= same
    return condition


def _field(model: type[Model], path: str) -> Any:
    name = "id" if path == "pk" else path
    for part in name.split("__")[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(name.split("__")[-1])


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 500
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        size = self._page_size(request)
        fields = _ordering(queryset)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(_after(fields, self._decode(cursor, fields, queryset.model)))
        rows = list(queryset[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_cursor = self._encode([self._value(rows[-1], name) for name, _ in fields]) if self.has_next else None
        return rows

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise exceptions.ValidationError({self.page_size_query_param: ["Give a whole number."]}) from exc
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a number from 1 to {self.max_page_size}."]}
            )
        return size

    @staticmethod
    def _value(row: Any, path: str) -> Any:
        value = row
        for part in ("id" if path == "pk" else path).split("__"):
            value = getattr(value, part)
        return value

    @staticmethod
    def _encode(values: list[Any]) -> str:
        text = json.dumps([v if v is None or isinstance(v, int | str) else str(v) for v in values])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str, fields: list[tuple[str, bool]], model: type[Model]) -> list[Any]:
        invalid = exceptions.ValidationError({"cursor": ["Invalid cursor: use the `next` link of the last page."]})
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError) as exc:
            raise invalid from exc
        if not isinstance(values, list) or len(values) != len(fields):
            raise invalid
        try:
            return [
                None if v is None else _field(model, name).to_python(v)
                for (name, _), v in zip(fields, values, strict=True)
            ]
        except (DjangoValidationError, TypeError, ValueError) as exc:
            raise invalid from exc

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "The next page, if any."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The position to continue from: take it from the `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (1 to {self.max_page_size}, default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
