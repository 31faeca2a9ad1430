"""The brand's case list and reported-listings (item) list, with filters, sorting, keyset pagination and
CSV exports of exactly what is filtered.

Lists page by keyset (`core.pagination.KeysetListMixin`): no COUNT(*) and no OFFSET, so the thousandth
page and a search cost what the first page costs (indexes in cases/migrations/0007); exports stream
every filtered row through a server-side cursor.
"""

import hashlib
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views import View
from django.views.generic import ListView
from django_filters import FilterSet

from brands.access import BrandAccessMixin
from cases import selectors
from cases.filtersets import CaseFilterSet, CaseItemFilterSet
from cases.models import Case, CaseItem
from cases.views.list_rows import case_rows, item_rows
from core.api.throttling import CACHE_UNREACHABLE
from core.csvexport import csv_response
from core.pagination import KeysetListMixin

logger = logging.getLogger(__name__)


class FilteredMixin(BrandAccessMixin):
    """Binds the view's FilterSet to the query string over the brand-scoped queryset of its selector."""

    filterset_class: type[FilterSet]

    def scoped_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_filterset(self) -> FilterSet:
        return self.filterset_class(self.request.GET or None, queryset=self.scoped_queryset(), request=self.request)


class CaseFilterMixin(FilteredMixin):
    model = Case
    filterset_class = CaseFilterSet

    def scoped_queryset(self) -> QuerySet[Case]:
        return selectors.case_list(user=self.request.user, brand=self.brand)


class CaseItemFilterMixin(FilteredMixin):
    model = CaseItem
    filterset_class = CaseItemFilterSet

    def scoped_queryset(self) -> QuerySet[CaseItem]:
        return selectors.item_list(user=self.request.user, brand=self.brand)


#: Bumped when the filters' choices change (a marketplace added, renamed or removed: cases/apps.py).
FILTER_CHOICES_VERSION_KEY = "list-filters:version"
FILTER_FRAGMENT_SECONDS = 600


def filter_choices_changed(**kwargs: Any) -> None:
    try:
        if not cache.add(FILTER_CHOICES_VERSION_KEY, 2, timeout=None):
            cache.incr(FILTER_CHOICES_VERSION_KEY)
    except CACHE_UNREACHABLE:
        logger.warning(
            "cache unreachable: list filter fragments may show old choices for up to %s s", FILTER_FRAGMENT_SECONDS
        )


def filter_fields_html(filterset: FilterSet, *, brand_id: int) -> SafeString:
    """The filter form's fields, rendered once per brand, filter values and choices version, then cached.

    Rendering the widgets (the marketplace select with every marketplace, the status checkboxes, the date
    inputs) through the form templates was a fifth of the list page's CPU; the same filters give the same
    HTML, so paging through a list renders them once. A form with errors is rendered each time (its
    messages echo the input) and the page still works when the cache does not answer.
    """
    form = filterset.form
    if form.is_bound and form.errors:
        return render_to_string("cases/lists/_filter_fields.html", {"form": form})
    values = sorted((key, value) for key in form.data for value in form.data.getlist(key) if key in form.fields)
    digest = hashlib.sha256(repr(values).encode()).hexdigest()[:32]
    key = f"list-filters:{type(filterset).__name__}:{brand_id}:{digest}"
    # One round trip: the fragment is stored with the choices' version it was rendered under, and read
    # together with the current version; a fragment of an older version is rendered again.
    try:
        found = cache.get_many([FILTER_CHOICES_VERSION_KEY, key])
    except CACHE_UNREACHABLE:
        return render_to_string("cases/lists/_filter_fields.html", {"form": form})
    version = found.get(FILTER_CHOICES_VERSION_KEY, 1)
    cached = found.get(key)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == version:
        html = cached[1]
    else:
        html = str(render_to_string("cases/lists/_filter_fields.html", {"form": form}))
        with suppress(*CACHE_UNREACHABLE):
            cache.set(key, (version, html), FILTER_FRAGMENT_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by the form's own templates, which escape


class FilteredListView(KeysetListMixin, FilteredMixin, ListView):
    paginate_by = 50
    #: The URL name of the matching CSV export.
    export_url_name: str
    #: Renders the page's rows as the table's body (cases/views/list_rows.py).
    render_rows: Callable[..., SafeString]

    def get_queryset(self) -> QuerySet:
        self.filterset = self.get_filterset()
        # Invalid filters show their errors and no rows, rather than silently listing everything.
        if self.filterset.is_bound and not self.filterset.is_valid():
            return self.filterset.queryset.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = len(context["object_list"])
        filters = [name for name in self.filterset.filters if name != "ordering"]
        context.update(
            showing=f"{rows:,} on this page" if rows else "none",
            filter_fields_html=filter_fields_html(self.filterset, brand_id=self.brand.pk),
            rows_html=type(self).render_rows(context["object_list"], brand_slug=self.brand.slug),
            filterset=self.filterset,
            filtered=any(value for name in filters for value in self.request.GET.getlist(name)),
            export_url=reverse(self.export_url_name, kwargs={"brand_slug": self.brand.slug}),
        )
        return context


class CaseListView(CaseFilterMixin, FilteredListView):
    template_name = "cases/lists/case_list.html"
    context_object_name = "cases"
    export_url_name = "cases:case_export"
    render_rows = case_rows


class CaseItemListView(CaseItemFilterMixin, FilteredListView):
    template_name = "cases/lists/item_list.html"
    context_object_name = "items"
    export_url_name = "cases:item_export"
    render_rows = item_rows

    def paginate_queryset(self, queryset: QuerySet, page_size: int) -> tuple[Any, ...]:
        # The rows are named tuples of exactly the columns shown (selectors.ITEM_LIST_FIELDS, the same query):
        # four model instances per row (item, listing, marketplace, seller) were a quarter of the page's time.
        return super().paginate_queryset(queryset.values_list(*selectors.ITEM_LIST_FIELDS, named=True), page_size)


class FilteredExportView(FilteredMixin, View):
    """Streams the filtered rows as CSV (formula-escaped); invalid filters go back to the list."""

    columns: tuple[tuple[str, str], ...]
    list_url_name: str
    file_stem: str

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        filterset = self.get_filterset()
        if filterset.is_bound and not filterset.is_valid():
            messages.error(request, "Correct the filters before exporting.")
            list_url = reverse(self.list_url_name, kwargs={"brand_slug": self.brand.slug})
            return redirect(f"{list_url}?{request.GET.urlencode()}")
        filename = f"{self.brand.slug}-{self.file_stem}-{timezone.localdate():%Y-%m-%d}.csv"
        rows = selectors.export_rows(filterset.qs, self.columns)
        return csv_response(filename, [header for header, _ in self.columns], rows)


class CaseExportView(CaseFilterMixin, FilteredExportView):
    columns = selectors.CASE_EXPORT_COLUMNS
    list_url_name = "cases:case_list"
    file_stem = "cases"


class CaseItemExportView(CaseItemFilterMixin, FilteredExportView):
    columns = selectors.ITEM_EXPORT_COLUMNS
    list_url_name = "cases:item_list"
    file_stem = "reported-listings"


urlpatterns = [
    path("cases/", CaseListView.as_view(), name="case_list"),
    path("cases/export/", CaseExportView.as_view(), name="case_export"),
    path("items/", CaseItemListView.as_view(), name="item_list"),
    path("items/export/", CaseItemExportView.as_view(), name="item_export"),
]
