"""Filters of the brand lists. One `<Model>FilterSet` serves the HTML list and, later, the API.

A filterset filters a queryset the caller has already scoped to one brand (`for_user(user, brand=...)`);
its own choices (the offices) come from that queryset, so they never list another brand's values.
"""

from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from django.utils import timezone

from brands.choices import IPRightKind, IPRightStatus
from brands.models import IPRight
from core.filters import StableOrderingFilter


class RetiredFilter(django_filters.ChoiceFilter):
    """Current rights unless asked otherwise: retired ones stay out of the way but can still be found."""

    def filter(self, qs: models.QuerySet, value: str) -> models.QuerySet:
        if value == "all":
            return qs
        return qs.filter(retired_at__isnull=value != "only")


class IPRightFilterSet(django_filters.FilterSet):
    EXPIRY_WINDOWS = (30, 90, 180, 365)

    q = django_filters.CharFilter(method="search", label="Search", help_text="Name or registration number")
    kind = django_filters.ChoiceFilter(choices=IPRightKind.choices, empty_label="Any kind", label="Kind")
    status = django_filters.ChoiceFilter(choices=IPRightStatus.choices, empty_label="Any status", label="Status")
    # Text, not a choice: the offices are the brand's own (`__init__` lists them in the page's select), so
    # the API's schema cannot enumerate them; an office none of its rights has lists nothing.
    office = django_filters.CharFilter(
        label="Office",
        max_length=IPRight._meta.get_field("office").max_length,
        widget=forms.Select,
        help_text="The office of the brand's rights, as they name it; another lists nothing.",
    )
    expires_within = django_filters.ChoiceFilter(
        choices=[(str(days), f"{days} days") for days in EXPIRY_WINDOWS],
        method="filter_expires_within",
        empty_label="Any time",
        label="Expires within",
    )
    retired = RetiredFilter(
        choices=[("all", "Current and retired"), ("only", "Retired only")],
        empty_label="Current only",
        label="Retired rights",
    )
    sort = StableOrderingFilter(
        fields=("name", "registration_number", "office", "kind", "status", "valid_until", "created_at"),
        label="Sort by",
        default=("name", "pk"),
    )

    class Meta:
        model = IPRight
        fields = ()

    def __init__(self, data: Any = None, queryset: models.QuerySet | None = None, **kwargs: Any) -> None:
        super().__init__(data, queryset, **kwargs)
        offices = self.queryset.order_by("office").values_list("office", flat=True).distinct()
        office = self.filters["office"]
        office.extra["widget"] = forms.Select(choices=[("", "Any office"), *((name, name) for name in offices)])
        # A form field built earlier on the class's filter (the API schema generator builds them) is
        # cached on it and deep-copied into every instance: drop it, so the field is built with this widget.
        office.__dict__.pop("_field", None)

    def search(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(registration_number__icontains=value))

    def filter_expires_within(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        today = timezone.localdate()
        return queryset.filter(valid_until__gte=today, valid_until__lte=today + timedelta(days=int(value)))
