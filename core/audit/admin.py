"""The audit trail in the admin: strictly view-only.

The table is append-only (a database trigger rejects UPDATE and DELETE), so nobody, superusers included,
may add, change or delete an event here; events are written by `core.audit.services` in the
transaction of the change they describe.
"""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.admin.mixins import CachedValuesListFilter, ReadOnlyAdminMixin, ScaleAdminMixin
from core.audit.models import AuditEvent


class TargetTypeListFilter(admin.RelatedFieldListFilter):
    """The types of object the user can open in the admin, rather than the whole content-type table with its
    framework internals (sessions, permissions, log entries). Costs no query on the audit table."""

    def field_choices(self, field, request, model_admin):
        models = [entry["model"] for app in model_admin.admin_site.get_app_list(request) for entry in app["models"]]
        return sorted(
            ((ct.pk, str(ct)) for ct in ContentType.objects.get_for_models(*models).values()), key=lambda c: c[1]
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "action", "target", "change", "actor", "automated")
    list_select_related = ("actor", "target_type")
    # A date filter (today, past 7 days, this month, this year), not a date_hierarchy: the hierarchy's
    # year links are a SELECT DISTINCT over the whole table on every page, the filter's ranges a BRIN scan.
    list_filter = (
        ("occurred_at", admin.DateFieldListFilter),
        ("action", CachedValuesListFilter),
        "automated",
        ("target_type", TargetTypeListFilter),
    )
    # Declared so that the admin shows its search box; `get_search_results` does the searching.
    search_fields = ("target_id__exact",)
    search_help_text = "The exact id of the changed object, or part of an action's name (e.g. decide)."
    # Insertion order, served by the primary key: occurred_at has no index of its own, and sorting the
    # largest table of the project by any other column would sort all of it.
    ordering = ("-pk",)
    sortable_by = ()
    raw_id_fields = ("actor",)
    fields = (
        "occurred_at",
        "action",
        "target_type",
        "target_id",
        "target",
        "brand_id",
        "from_state",
        "to_state",
        "actor",
        "automated",
        "reason",
        "data",
    )
    readonly_fields = ("target",)

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[AuditEvent], search_term: str
    ) -> tuple[models.QuerySet[AuditEvent], bool]:
        """A number is a target id, looked up under every content type at once so that the target index
        (content type first) serves it; other text picks the actions whose name contains it. Reasons are
        not searched: a LIKE over the largest table of the project reads all of it, and a trigram index on
        it would slow every write (delisting writes one event per listing)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            types = ContentType.objects.values_list("pk", flat=True)
            return queryset.filter(target_type__in=list(types), target_id=int(term)), False
        actions = CachedValuesListFilter.values(AuditEvent, "action")
        return queryset.filter(action__in=[action for action in actions if term.lower() in action.lower()]), False

    @admin.display(description="target")
    def target(self, obj: AuditEvent) -> str:
        content_type = obj.target_type
        label = f"{content_type.model} #{obj.target_id}"
        try:
            url = reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[obj.target_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="from → to")
    def change(self, obj: AuditEvent) -> str:
        if not (obj.from_state or obj.to_state):
            return ""
        return f"{obj.from_state or '∅'} → {obj.to_state or '∅'}"
