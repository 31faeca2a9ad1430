"""Admin of the investigations app: test purchases and seller networks register their model admins here.

Test purchases are view-only for marketplace moderators: brands record them on their pages, the chain of
custody is append-only in the database, and the marketplace answers on the order through the platform
API. A purchase's page shows its files, its chain of custody and whether the chain verifies
(`investigations.selectors.custody_verify`).
"""

from django.contrib import admin
from django.utils.html import format_html

from core.admin.mixins import ReadOnlyAdminMixin, ScaleAdminMixin, StoredDocumentInline
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseAttachment, TestPurchaseFile
from investigations.selectors import custody_verify


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
