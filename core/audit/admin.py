"""The audit trail in the admin: strictly view-only.

The table is append-only (a database trigger rejects UPDATE and DELETE), so nobody, superusers included,
may add, change or delete an event here; events are written by `core.audit.services` in the
transaction of the change they describe.
"""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
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
    list_filter = (("action", CachedValuesListFilter), "automated", ("target_type", TargetTypeListFilter))
    search_fields = ("action", "reason", "target_id__exact")
    search_help_text = "Action or reason text, or the exact id of the changed object."
    date_hierarchy = "occurred_at"
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
