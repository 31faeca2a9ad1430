"""Admin of the investigations app: test purchases and seller networks register their model admins here.

Test purchases are view-only for marketplace moderators: brands record them on their pages, the chain of
custody is append-only in the database, and the marketplace answers on the order through the platform
API. A purchase's page shows its files, its chain of custody and whether the chain verifies
(`investigations.selectors.custody_verify`).

The item page of the review queue (the cases' `CaseItemAdmin`, as the apps below re-registered it) is
re-registered with a panel of the test purchases attached to the item: their verdict, the order's
confirmation and whether their chain verifies, so the moderator weighs them with the evidence.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from cases.models import CaseItem
from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin, StoredDocumentInline

# Referral dossiers (the export page on the admin site and the list of exports) and seller networks (the
# network pages, actions and the seller's link) register their admin views on import.
from investigations import admin_dossiers, admin_networks  # noqa: F401
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseAttachment, TestPurchaseFile
from investigations.selectors import custody_verify

#: The item admin as the apps loaded before this one left it (cases', with safeguards' risk panel).
_ItemAdmin: Any = type(admin.site._registry[CaseItem])


class TestPurchaseFileInline(ReadOnlyAdminMixin, StoredDocumentInline):
    model = TestPurchaseFile
    document_fields = ("kind",)


class CustodyEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CustodyEvent
    fields = ("sequence", "event_type", "at", "actor", "note", "files", "previous_hash", "hash", "recorded_at")
    readonly_fields = fields
    extra = 0
    ordering = ("sequence",)


@admin.register(TestPurchase)
class TestPurchaseAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    __test__ = False

    list_display = ("id", "brand", "listing", "seller", "order_id", "order_confirmation", "verdict", "purchased_on")
    list_select_related = ("brand", "listing", "seller")
    list_filter = ("verdict", "order_confirmation", "recorded_side")
    search_fields = ("order_id",)
    raw_id_fields = ("listing", "seller")
    readonly_fields = ("chain_of_custody",)
    inlines = [TestPurchaseFileInline, CustodyEventInline]
    ordering = ("-pk",)
    sortable_by = ("id",)

    @admin.display(description="chain of custody")
    def chain_of_custody(self, obj: TestPurchase) -> str:
        report = custody_verify(obj)
        return format_html('<strong class="{}">{}</strong>', "ok" if report.complete else "errornote", report.summary)


@admin.register(TestPurchaseAttachment)
class TestPurchaseAttachmentAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    __test__ = False

    list_display = ("id", "purchase", "item", "attached_by", "attached_at")
    list_select_related = ("purchase", "item", "attached_by")
    raw_id_fields = ("purchase", "item")
    ordering = ("-pk",)
    sortable_by = ("id",)


admin.site.unregister(CaseItem)


@admin.register(CaseItem)
class TestPurchaseCaseItemAdmin(_ItemAdmin):
    """The item page with the test purchases attached to the item."""

    __test__ = False

    change_form_template = "admin/investigations/caseitem_change_form.html"

    def page_context(self, request: HttpRequest, item: CaseItem) -> dict[str, Any]:
        attachments = TestPurchaseAttachment.objects.filter(item=item).select_related("purchase").order_by("pk")
        return super().page_context(request, item) | {
            "parent_change_form_template": _ItemAdmin.change_form_template or "admin/change_form.html",
            "test_purchases": [(a.purchase, custody_verify(a.purchase)) for a in attachments],
        }
