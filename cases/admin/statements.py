"""DSA statements of reasons in the admin, view-only: stored with every removal by the decision services
(the integrations app adds their export as an action)."""

from django.contrib import admin

from cases.models import StatementOfReasons
from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin


@admin.register(StatementOfReasons)
class StatementOfReasonsAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "item",
        "decision_ground",
        "source_type",
        "automated_decision",
        "application_date",
        "moderator",
        "created_at",
    )
    list_select_related = ("item", "moderator")
    list_filter = ("decision_ground", "source_type", "automated_decision", "automated_detection")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = ("-pk",)
    raw_id_fields = ("item", "moderator")
    fieldsets = (
        (None, {"fields": ("item", "moderator", "created_at")}),
        (
            "Decision",
            {
                "fields": (
                    "decision_visibility",
                    "end_date_visibility_restriction",
                    "decision_ground",
                    "legal_ground",
                    "explanation",
                    "facts",
                    "application_date",
                )
            },
        ),
        ("Classification", {"fields": ("category", "category_specification", "territorial_scope")}),
        ("Process", {"fields": ("source_type", "automated_detection", "automated_decision", "redress")}),
    )
