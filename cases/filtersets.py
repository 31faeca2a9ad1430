"""Filters of the case and item lists, shared by the brand pages, their CSV exports and (later) the API.

The filters are written for the indexes, to stay fast at hundreds of thousands of items:
- free text on listing titles compares `UPPER(title)` with `LIKE '%TEXT%'`, which the trigram index
  `listing_title_trgm` serves (an `ILIKE` would not match that expression index);
- a pasted listing URL is normalised the way listings are stored, then matched exactly (the unique
  index on URLs); only a URL ending with "*" is matched as a prefix, because `LIKE 'prefix%'` can use a
  btree index only under the C collation or with `varchar_pattern_ops`;
- sellers are found by their marketplace id or by name (trigram index `seller_name_trgm`), never
  through a select of every seller;
- date ranges compare the timestamp column itself with day boundaries in the current time zone
  (`submitted_at__date` would wrap the column in a cast that no index serves).

The querysets come from the caller already scoped to one brand (`for_user(user, brand=...)`); nothing
here widens a scope: case filters on item attributes are `EXISTS` subqueries over the same case.
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Upper
from django.db.models.lookups import Contains
from django.utils import timezone

from brands.choices import Lane
from cases.choices import CaseStatus, ItemStatus, ReasonCode
from cases.models import Case, CaseItem
from core.filters import StableOrderingFilter
from listings.models import Marketplace
from listings.services import normalise_listing_url

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})


class SubmittedRangeForm(forms.Form):
    """The filter form: refuses a date range that ends before it starts instead of showing nothing."""

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and end < start:
            self.add_error("submitted_to", "The end date is before the start date.")
        return cleaned


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _title_or_url(value: str) -> Q:
    """An item whose listing has the URL `value` (or a URL starting with it, when it ends with "*"), or
    whose title contains `value` when it is not a URL."""
    try:
        url = normalise_listing_url(value.removesuffix("*"))
    except ValueError:
        return Q(Contains(Upper("listing__title"), value.upper()))
    return Q(listing__url__startswith=url) if value.endswith("*") else Q(listing__url=url)


def _seller(value: str) -> Q:
    """An item whose seller has `value` as its marketplace id, or in its name."""
    return Q(listing__seller__external_id=value) | Q(Contains(Upper("listing__seller__name"), value.upper()))


class _SharedFilters(django_filters.FilterSet):
    """The filters a case and an item have in common, written as conditions on an item."""

    q = django_filters.CharFilter(
        label="Search",
        method="filter_q",
        help_text="Words of the listing title, or a listing URL (end it with * for every URL that starts so).",
    )
    reason_code = django_filters.ChoiceFilter(label="Reason", choices=ReasonCode.choices, empty_label="Any reason")
    lane = django_filters.ChoiceFilter(choices=Lane.choices, empty_label="Any lane")
    marketplace = django_filters.ModelChoiceFilter(
        label="Marketplace",
        queryset=Marketplace.objects.order_by("name"),
        method="filter_marketplace",
        empty_label="Any marketplace",
    )
    seller = django_filters.CharFilter(
        label="Seller", method="filter_seller", help_text="The seller's id on the marketplace, or part of its name."
    )
    submitted_from = django_filters.DateFilter(label="Submitted from", method="filter_from", widget=DATE_WIDGET)
    submitted_to = django_filters.DateFilter(label="Submitted until", method="filter_to", widget=DATE_WIDGET)

    class Meta:
        form = SubmittedRangeForm
        fields: list[str] = []

    def _items_match(self, queryset: QuerySet, condition: Q) -> QuerySet:
        """Rows with an item meeting `condition` (for items: the row itself)."""
        return queryset.filter(condition)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return self._items_match(queryset, _title_or_url(value)) if value else queryset

    def filter_seller(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return self._items_match(queryset, _seller(value)) if value else queryset

    def filter_marketplace(self, queryset: QuerySet, name: str, value: Marketplace) -> QuerySet:
        return self._items_match(queryset, Q(listing__marketplace=value))

    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(submitted_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(submitted_at__lt=_day_start(value + timedelta(days=1)))


class CaseItemFilterSet(_SharedFilters):
    """Filters of the reported-listings list (one row per case item)."""

    # distinct=False: one status per row and no join, so there are no duplicates for a DISTINCT (which
    # would sort every matching row) to remove.
    status = django_filters.MultipleChoiceFilter(
        choices=ItemStatus.choices, widget=forms.CheckboxSelectMultiple, distinct=False
    )
    ordering = StableOrderingFilter(
        label="Sort by",
        fields=(("submitted_at", "submitted"), ("status", "status"), ("sla_due_at", "sla_due"), ("id", "id")),
        field_labels={"submitted_at": "Submitted", "status": "Status", "sla_due_at": "Review due", "id": "Item"},
        empty_label="Newest first",
    )

    class Meta(_SharedFilters.Meta):
        model = CaseItem


class CaseFilterSet(_SharedFilters):
    """Filters of the case list. Listing, seller and marketplace filters match cases with such an item."""

    status = django_filters.MultipleChoiceFilter(
        choices=CaseStatus.choices, widget=forms.CheckboxSelectMultiple, distinct=False
    )
    ordering = StableOrderingFilter(
        label="Sort by",
        fields=(("submitted_at", "submitted"), ("status", "status"), ("id", "id")),
        field_labels={"submitted_at": "Submitted", "status": "Status", "id": "Case"},
        empty_label="Newest first",
    )

    class Meta(_SharedFilters.Meta):
        model = Case

    def _items_match(self, queryset: QuerySet, condition: Q) -> QuerySet:
        # EXISTS, not a join: a case with many matching items is listed once and no DISTINCT is needed. The
        # brand condition (always true for a case's own items) lets the search start from the brand's items.
        items = CaseItem.objects.filter(condition, case=OuterRef("pk"), brand=OuterRef("brand"))
        return queryset.filter(Exists(items))
