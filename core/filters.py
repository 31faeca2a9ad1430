"""Shared django-filter pieces for the brand pages and the API."""

from typing import Any

import django_filters
from django.db.models import QuerySet


class StableOrderingFilter(django_filters.OrderingFilter):
    """Orders by the chosen columns, then by the primary key in the last column's direction, so pages never
    repeat or skip a row; with nothing chosen, by `default` (or the queryset's own order)."""

    def __init__(self, *args: Any, default: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        chosen = [self.get_ordering_value(param) for param in value or () if param]
        if not chosen:
            return qs.order_by(*self.default) if self.default else qs
        return qs.order_by(*chosen, "-pk" if chosen[-1].startswith("-") else "pk")
