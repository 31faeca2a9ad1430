"""Keyset ("cursor") pagination for API lists of hundreds of thousands of rows.

DRF's CursorPagination follows one field and cannot follow a FilterSet's ordering. This one follows
whatever ordering the queryset ends with (the FilterSets' `StableOrderingFilter` always ends with the
primary key, so the ordering is total), through `core.pagination.keyset_page`: a row comparison
`(a, b, id) > (…)` when the ordering columns are NOT NULL and go one way, a column-by-column condition
otherwise. No OFFSET, no COUNT(*): a page deep in the list costs what the first one costs.
"""

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.pagination import InvalidCursor, keyset_page


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 500
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        size = self._page_size(request)
        try:
            page = keyset_page(queryset, request.query_params.get(self.cursor_query_param) or None, size)
        except InvalidCursor as exc:
            raise exceptions.ValidationError(
                {"cursor": ["Invalid cursor: use the `next` link of the last page."]}
            ) from exc
        self.next_cursor = page.next_cursor
        return page.rows

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
