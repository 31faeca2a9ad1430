"""The review queue's filters: status (the queue itself unless another choice is made), age, SLA, assignee,
and typed-value filters for tables too large to list (brands, sellers)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from brands.models import Brand
from cases.choices import ItemStatus
from cases.models import CaseItem

S = ItemStatus


class QueueStatusFilter(admin.SimpleListFilter):
    """The item's status, showing the items waiting for a decision unless another choice is made.

    The stock filter's "All" means no parameter; here no parameter means the queue, so "All items" has
    a value of its own.
    """

    title = "status"
    parameter_name = "status"
    TO_DECIDE = "to_decide"
    ALL = "all"
    STATUSES = {TO_DECIDE: (S.SUBMITTED, S.IN_REVIEW), **{status.value: (status,) for status in S}}
    #: Choices whose items are ordered like the queue, by lane and SLA due time.
    QUEUE_VALUES = frozenset({TO_DECIDE, S.SUBMITTED.value, S.IN_REVIEW.value})

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(self.TO_DECIDE, "Waiting for a decision"), *S.choices, (self.ALL, "All items")]

    def value(self) -> str:
        return super().value() or self.TO_DECIDE

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}, remove=[PAGE_VAR]),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        value = self.value()
        if value == self.ALL:
            return queryset
        if value not in self.STATUSES:
            raise IncorrectLookupParameters(f"{value!r} is no item status.")
        return queryset.filter(status__in=self.STATUSES[value])


class AgeFilter(admin.SimpleListFilter):
    """Time since the item was (re)submitted, in the buckets an SLA of one to three days makes useful."""

    title = "age"
    parameter_name = "age"
    BUCKETS = {
        "1d": ("Under a day", None, timedelta(days=1)),
        "3d": ("1 to 3 days", timedelta(days=1), timedelta(days=3)),
        "7d": ("3 to 7 days", timedelta(days=3), timedelta(days=7)),
        "older": ("Over 7 days", timedelta(days=7), None),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(value, label) for value, (label, _, _) in self.BUCKETS.items()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        if self.value() is None:
            return queryset
        if self.value() not in self.BUCKETS:
            raise IncorrectLookupParameters(f"{self.value()!r} is no age bucket.")
        _, min_age, max_age = self.BUCKETS[self.value()]
        now = timezone.now()
        if min_age is not None:
            queryset = queryset.filter(submitted_at__lte=now - min_age)
        if max_age is not None:
            queryset = queryset.filter(submitted_at__gt=now - max_age)
        return queryset


#: Statuses whose SLA clock runs: the item waits for a moderator (in clarification it waits for the brand).
SLA_RUNNING_STATUSES = (S.SUBMITTED, S.IN_REVIEW)


class SlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("breached", "Breached"), ("on_time", "Not breached")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        match self.value():
            case None:
                return queryset
            # Only items still waiting for a moderator's decision: a decided item keeps its old due time.
            case "breached":
                return queryset.filter(status__in=SLA_RUNNING_STATUSES, sla_due_at__lt=timezone.now())
            case "on_time":
                return queryset.filter(status__in=SLA_RUNNING_STATUSES, sla_due_at__gte=timezone.now())
        raise IncorrectLookupParameters(f"{self.value()!r} is no SLA choice.")


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("me", "Me"), ("none", "Nobody"), ("others", "Someone else")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        match self.value():
            case None:
                return queryset
            case "me":
                return queryset.filter(assigned_to=request.user)
            case "none":
                return queryset.filter(assigned_to__isnull=True)
            case "others":
                return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user)
        raise IncorrectLookupParameters(f"{self.value()!r} is no assignment choice.")


class InputFilter(admin.SimpleListFilter):
    """A filter on a typed value, for tables too large to list as links (thousands of brands, millions
    of sellers): a text input instead of a choice per row."""

    template = "admin/cases/input_filter.html"
    placeholder = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        # One "choice" carries what the template needs: the value, and the other parameters to keep.
        keep = {name: value for name, value in changelist.params.items() if name not in (self.parameter_name, PAGE_VAR)}
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name, PAGE_VAR]),
            "display": "All",
            "parameter": self.parameter_name,
            "value": self.value() or "",
            "placeholder": self.placeholder,
            "keep": sorted(keep.items()),
        }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        value = (self.value() or "").strip()
        return self.filter_value(queryset, value) if value else queryset

    def filter_value(self, queryset: models.QuerySet[CaseItem], value: str) -> models.QuerySet[CaseItem]:
        raise NotImplementedError


class BrandFilter(InputFilter):
    title = "brand"
    parameter_name = "brand"
    placeholder = "Name or slug"

    def filter_value(self, queryset: models.QuerySet[CaseItem], value: str) -> models.QuerySet[CaseItem]:
        # Brands number in the thousands: a scan of their names is cheap, the items' brand index does the rest.
        brands = Brand.objects.filter(models.Q(slug=value) | models.Q(name__icontains=value))
        return queryset.filter(brand__in=brands.values("pk"))


class SellerFilter(InputFilter):
    title = "seller"
    parameter_name = "seller"
    placeholder = "Marketplace's seller id"

    def filter_value(self, queryset: models.QuerySet[CaseItem], value: str) -> models.QuerySet[CaseItem]:
        return queryset.filter(listing__seller__external_id=value)
