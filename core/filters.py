"""Shared django-filter pieces for the brand pages and the API."""

import re
from typing import Any

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

#: A whole number as the schema's `integer` means it: digits, no "1.0" or "1e3".
WHOLE_NUMBER = re.compile(r"[+-]?\d+")


class WholeNumberField(forms.IntegerField):
    """Django's IntegerField without its leniency: it reads "1.0" as 1, which the schema calls no integer."""

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not WHOLE_NUMBER.fullmatch(str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number from 1 (a number filter would take "1.5" or "-5e63" and find nothing)."""

    field_class = WholeNumberField

    def get_max_validator(self) -> MaxValueValidator:
        return MaxValueValidator(2**63 - 1)  # the largest id PostgreSQL's bigint holds (not django-filter's 1e50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


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
