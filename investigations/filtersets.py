"""Filters of the test purchases: one `TestPurchaseFilterSet` serves the brand's list page and the API.

It filters a queryset already scoped to one brand (`for_user(user, brand=...)`)."""

import django_filters
from django.db.models import Q, QuerySet

from investigations.choices import OrderConfirmation, Verdict
from investigations.models import TestPurchase


class TestPurchaseFilterSet(django_filters.FilterSet):
    __test__ = False

    q = django_filters.CharFilter(
        method="search", label="Search", max_length=200, help_text="Order number, listing address or seller name"
    )
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices, empty_label="Any verdict", label="Verdict")
    order_confirmation = django_filters.ChoiceFilter(
        choices=OrderConfirmation.choices, empty_label="Any answer", label="Order"
    )

    class Meta:
        model = TestPurchase
        fields = ["q", "verdict", "order_confirmation"]

    def search(self, queryset: QuerySet[TestPurchase], name: str, value: str) -> QuerySet[TestPurchase]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(order_id__iexact=value) | Q(listing__url__icontains=value) | Q(seller__name__icontains=value)
        )
