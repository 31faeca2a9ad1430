"""Shared bases for the apps' admins. They know no app.

The admin is the moderators' and association staff's console, over tables of millions of rows (listings,
sellers, audit events). Everything here serves two rules:

- A changelist page costs a bounded number of cheap queries, whatever the table size: no full COUNT(*)
  and no OFFSET deeper than 10,000 rows (`EstimatedCountPaginator`, `show_full_result_count = False`), no
  facet counts, no SELECT DISTINCT on every page load (`CachedValuesListFilter`, no `date_hierarchy`),
  per-row figures as correlated subqueries that run for the page's rows only (`correlated_aggregate`).
- The admin never bypasses a service. Rows that services write (state, timestamps, actors, anything
  append-only) are view-only (`ReadOnlyAdminMixin`); rows that history refers to are never deleted
  (`NoDeleteAdminMixin`); a row's identity is fixed once it exists (`ScaleAdminMixin.readonly_after_create`).
"""

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connections, models
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.functional import cached_property

from core.views import SERVICE_ERRORS, refusal_text


class EstimatedCountPaginator(Paginator):
    """A changelist paginator whose cost does not grow with the table: estimated counts, capped depth.

    - Count: COUNT(*) over millions of rows scans them all on every page. An unfiltered list of a table
      PostgreSQL's statistics put above `exact_below` rows shows their estimate (`pg_class.reltuples`,
      kept current by autovacuum). A filtered list is counted exactly up to `exact_below` rows
      (`COUNT(*)` over a `LIMIT exact_below + 1` subquery, which stops reading there); above that, the
      planner's estimate of the filtered query is shown. Either way `is_estimate` says so, and the
      changelist prints "about" (templates/admin/pagination.html).
    - Depth: page N costs OFFSET (N - 1) * per_page rows read and thrown away, so only the first
      `max_rows` rows are reachable by page number (`capped` says when more exist); a page past them is
      an invalid page, which the changelist answers like any other (`?e=1`). Narrowing the list with a
      filter or a search reaches the rest, as the page says.
    """

    #: Lists with more rows than this show an estimate instead of an exact count.
    exact_below = 10_000
    #: Rows reachable by page number.
    max_rows = 10_000

    is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, models.QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        if not self._filtered(queryset):
            estimate = self._table_estimate(queryset)
            if estimate is not None and estimate > self.exact_below:
                self.is_estimate = True
                return estimate
        # values("pk"): the per-row annotations of a changelist (correlated counts) are not computed to count.
        counted = queryset.order_by().values("pk")[: self.exact_below + 1].count()
        if counted <= self.exact_below:
            return counted
        self.is_estimate = True
        return max(self._plan_estimate(queryset), counted)

    def page(self, number: Any) -> Page:
        """The page's rows by a deferred join: OFFSET skips over primary keys alone (an index-only scan
        where the order allows), then the page's 50 rows are read with their joins. A plain OFFSET would
        read and join every skipped row."""
        page = super().page(number)
        queryset = self.object_list
        if not isinstance(queryset, models.QuerySet) or page.number == 1:
            return page
        ids = list(page.object_list.values_list("pk", flat=True))
        return self._get_page(queryset.filter(pk__in=ids), number, self)

    @cached_property
    def num_pages(self) -> int:
        return min(Paginator.num_pages.func(self), self.max_pages)

    @property
    def max_pages(self) -> int:
        return max(1, -(-self.max_rows // self.per_page))

    @property
    def capped(self) -> bool:
        """Whether rows exist past the last reachable page."""
        return self.count > self.max_pages * self.per_page

    @staticmethod
    def _filtered(queryset: models.QuerySet) -> bool:
        query = queryset.query
        return bool(query.where or query.distinct or query.combinator or query.is_sliced)

    @staticmethod
    def _table_estimate(queryset: models.QuerySet) -> int | None:
        connection = connections[queryset.db]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
        # reltuples is -1 until the table is first analysed.
        return row[0] if row and row[0] >= 0 else None

    @staticmethod
    def _plan_estimate(queryset: models.QuerySet) -> int:
        """The planner's row estimate for `queryset` (EXPLAIN plans without running it)."""
        sql, params = queryset.order_by().query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


class RowLinkChangeList(ChangeList):
    """A changelist whose row links carry the list's filters at the cost of one string, not one URL resolution.

    On any page but an unfiltered first one, Django's row links keep the list's state
    (`?_changelist_filters=...`, so that saving a row returns to the same page): `items_for_result` passes
    each row's URL through `add_preserved_filters`, which resolves it again against every admin URL pattern
    to see whether it is the changelist's own, 50 times a page (3.2 against 2.4 million function calls for
    the sellers' page 2 against page 1). A row's link is always its change page, never the changelist, so
    the answer is known: the filters are appended here once per row, and `preserved_filters` is emptied so
    that `add_preserved_filters` only re-encodes the query string (the same bytes;
    tests/core/test_admin_row_links.py compares them with Django's own links).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_link_query, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result: models.Model) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.row_link_query}" if self.row_link_query else url


class ScaleAdminMixin:
    """Base of every model admin: changelists that stay fast on millions of rows.

    Huge tables additionally set `ordering = ("-pk",)` (the primary key index serves it), restrict
    `sortable_by` to indexed columns, use `raw_id_fields`/`autocomplete_fields` for every foreign key to
    a large table, filter only on choices, booleans and small tables, and name every foreign key shown in
    `list_display` in `list_select_related`.
    """

    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RowLinkChangeList

    #: Fields set when a row is added and fixed afterwards: its identity (tenant, marketplace, URL).
    readonly_after_create: Sequence[str] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Sequence[str]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        return fields + tuple(f for f in self.readonly_after_create if f not in fields)

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict[str, Any]:
        # "Delete selected" can select across millions of rows, and deletes leave no audit record.
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions


class PagePanelAdminMixin:
    """A change page with a panel above the record: `page_context(request, obj)` adds what the panel shows
    to the template context of an existing row's page (the add page has no row yet)."""

    def page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(self.page_context(request, obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class ServiceAdminMixin:
    """Admin pages and actions that call a service: a refusal (`core.errors.DomainError` or a
    `ValidationError`) becomes the page's error message instead of a 500, the same way for every app."""

    def call_service(
        self, request: HttpRequest, service: Any, /, *, prefix: str = "", **kwargs: Any
    ) -> tuple[bool, Any]:
        """Call `service(**kwargs)`; on a refusal show it (after `prefix`) and return (False, None)."""
        try:
            return True, service(**kwargs)
        except SERVICE_ERRORS as error:
            self.message_user(request, f"{prefix}{refusal_text(error)}", messages.ERROR)
            return False, None


class NoDeleteAdminMixin:
    """For rows history refers to (filed cases, audit events, stay-down links): retired through a service,
    never deleted, not even by a superuser. Also works on inlines."""

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyAdminMixin(NoDeleteAdminMixin):
    """View only, for everyone including superusers: append-only rows, and rows that only services write.

    Changing such a row by hand would skip the service's state checks and the audit record it writes in
    the same transaction. Later admin actions call the services instead. Also works on inlines.
    """

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class CachedValuesListFilter(admin.AllValuesFieldListFilter):
    """`AllValuesFieldListFilter` for a free-text column of a large table, with its values cached.

    The stock filter runs a SELECT DISTINCT over the whole table on every changelist page; here it runs
    at most once per `cache_seconds`, so a value seen for the first time shows up within that delay.
    The values are shared by all users: use it only where the admin's queryset does not depend on the user.
    """

    cache_seconds = 600

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = self.values(model, field_path)

    @classmethod
    def values(cls, model: type[models.Model], field_path: str) -> list[Any]:
        """The distinct values of `field_path` in `model`'s table, from the cache when fresh enough."""
        return cache.get_or_set(
            f"admin-filter-values:{model._meta.label_lower}:{field_path}",
            lambda: list(model._default_manager.order_by(field_path).values_list(field_path, flat=True).distinct()),
            cls.cache_seconds,
        )


def changelist_url(model: type[models.Model], **filters: object) -> str:
    """The admin changelist of `model` narrowed by `filters`, e.g. `changelist_url(Item, case__id__exact=4)`."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def correlated_aggregate(related: models.QuerySet, *, fk: str, aggregate: models.Aggregate) -> Coalesce:
    """`aggregate` over the `related` rows pointing at the outer row through `fk`, 0 when there are none.

    A correlated subquery rather than a JOIN + GROUP BY over the whole table: PostgreSQL runs it for the
    rows of the page only (after ORDER BY/LIMIT, unless the list is sorted by it), and `count()` drops it.
    """
    subquery = related.filter(**{fk: models.OuterRef("pk")}).order_by().values(fk).annotate(value=aggregate)
    return Coalesce(models.Subquery(subquery.values("value")), 0, output_field=models.BigIntegerField())


class StoredDocumentAdminMixin:
    """Columns of a `core.files.StoredDocument`, all read-only.

    Documents are written once by the upload service, which detects the content type and hashes the
    content; the file lives in private storage, which serves no URL, so its stored name is shown as text.
    """

    stored_document_fields = (
        "original_name",
        "stored_file",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )

    @admin.display(description="stored as")
    def stored_file(self, obj: models.Model) -> str:
        return obj.file.name


class StoredDocumentInline(StoredDocumentAdminMixin, NoDeleteAdminMixin, admin.TabularInline):
    """Documents of a parent row, never added here (uploads go through the upload service) nor deleted.

    Subclasses set `model` and `document_fields`, the model's own columns (kind, description), shown
    before the stored ones and editable unless the inline is view-only.
    """

    extra = 0
    document_fields: Sequence[str] = ()

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Sequence[str]:
        return (*self.document_fields, *self.stored_document_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Sequence[str]:
        return self.stored_document_fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("uploaded_by")
