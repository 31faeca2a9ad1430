"""Notices (cases), their items and everything that follows a decision, in the admin: the moderator console.

Moderators work here. Rows are never added, changed or deleted by hand: everything a case holds was
filed and signed by the brand (the notice, its declarations and evidence), reported by the marketplace
(counter-notices) or written by a decision service (item statuses, deadlines, deciders, appeals,
statements of reasons), so every admin stays view-only (`ReadOnlyAdminMixin`). Decisions are admin
actions and buttons that call `cases.services`, which check the item's status and assignee under row
locks and write the audit trail; the admin checks who may ask (`cases.decide_caseitem`,
`cases.decide_appeal`, `cases.view_evidence`).

- The review queue is the case item changelist itself rather than a proxy model: a proxy would need a
  model, a migration and permissions of its own, while the queue is just a default view of the items.
  Unless another status is chosen it shows the items waiting for a decision, by lane priority
  (MarketSafe members first) and SLA due time, which the partial index `item_review_queue_idx` serves;
  the status filter's "All items" choice shows the rest.
- Decisions take one item from its page or many from the queue through a confirmation page. The
  services refuse items one by one (another moderator's item, a status that changed meanwhile); the
  others go ahead and the refusals are reported with their reasons. A large acceptance removes its
  listings through one delisting job, linked in the success message (`services.items_accept`).
- Items number in the hundreds of thousands and point at millions of listings: no full COUNT(*), no
  select widget over a large table (brands and sellers are filtered by typed input), searches that stay
  on one index each, and a constant number of queries per page whatever its rows.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from brands.models import Brand, IPRightDocument
from cases import selectors, services
from cases.choices import (
    DSA_KEYWORDS,
    EEA_COUNTRIES,
    REJECTION_FIX_GUIDANCE,
    STATEMENT_MAX_LENGTHS,
    AppealStatus,
    AutomatedDecision,
    CounterNoticeAnswer,
    DecisionGround,
    DecisionVisibility,
    ItemStatus,
    Redress,
    RejectionCode,
    SourceType,
)
from cases.models import Appeal, Case, CaseDraft, CaseItem, CounterNotice, Declaration, Evidence, StatementOfReasons
from cases.services import BulkOutcome, StatementInput
from cases.templatetags.cases_extras import time_left, time_left_text
from core.admin.mixins import (
    PagePanelAdminMixin,
    ReadOnlyAdminMixin,
    ScaleAdminMixin,
    StoredDocumentAdminMixin,
    StoredDocumentInline,
    changelist_url,
    correlated_aggregate,
)
from listings.models import Listing, Seller
from listings.services import normalise_listing_url

#: Who may accept, reject, ask for clarification, assign and release (the Moderators group).
DECIDE_PERMISSION = "cases.decide_caseitem"
#: Who may decide appeals (the Moderation leads group).
DECIDE_APPEAL_PERMISSION = "cases.decide_appeal"
#: Who may download evidence and the documents of the rights a case relies on.
VIEW_EVIDENCE_PERMISSION = "cases.view_evidence"

#: Most items one decision takes from the queue. Each decision runs its service in the request (only
#: the listings of a large acceptance go to a background job), so a selection across every page of the
#: queue is refused beyond this rather than holding the request for minutes.
BULK_DECIDE_MAX = 500
#: Items named one by one in a message or on the confirmation page; the rest are counted.
ITEMS_NAMED = 20
ITEMS_LISTED = 100

S = ItemStatus


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


# --- queue filters --------------------------------------------------------------------------------


class QueueStatusFilter(admin.SimpleListFilter):
    """The item's status, showing the items waiting for a decision unless another choice is made.

    The stock filter's "All" means no parameter; here no parameter means the queue, so "All items" has
    a value of its own.
    """

    title = "status"
    parameter_name = "status"
    TO_DECIDE = "to_decide"
    ALL = "all"
    STATUSES = {TO_DECIDE: (S.SUBMITTED, S.IN_REVIEW), **{status.value: (status,) for status in S}}
    #: Choices whose items are ordered like the queue, by lane and SLA due time.
    QUEUE_VALUES = frozenset({TO_DECIDE, S.SUBMITTED.value, S.IN_REVIEW.value})

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(self.TO_DECIDE, "Waiting for a decision"), *S.choices, (self.ALL, "All items")]

    def value(self) -> str:
        return super().value() or self.TO_DECIDE

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}, remove=[PAGE_VAR]),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        value = self.value()
        if value == self.ALL:
            return queryset
        if value not in self.STATUSES:
            raise IncorrectLookupParameters(f"{value!r} is no item status.")
        return queryset.filter(status__in=self.STATUSES[value])


class AgeFilter(admin.SimpleListFilter):
    """Time since the item was (re)submitted, in the buckets an SLA of one to three days makes useful."""

    title = "age"
    parameter_name = "age"
    BUCKETS = {
        "1d": ("Under a day", None, timedelta(days=1)),
        "3d": ("1 to 3 days", timedelta(days=1), timedelta(days=3)),
        "7d": ("3 to 7 days", timedelta(days=3), timedelta(days=7)),
        "older": ("Over 7 days", timedelta(days=7), None),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(value, label) for value, (label, _, _) in self.BUCKETS.items()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        if self.value() is None:
            return queryset
        if self.value() not in self.BUCKETS:
            raise IncorrectLookupParameters(f"{self.value()!r} is no age bucket.")
        _, min_age, max_age = self.BUCKETS[self.value()]
        now = timezone.now()
        if min_age is not None:
            queryset = queryset.filter(submitted_at__lte=now - min_age)
        if max_age is not None:
            queryset = queryset.filter(submitted_at__gt=now - max_age)
        return queryset


class SlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("breached", "Breached"), ("on_time", "Not breached")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        match self.value():
            case None:
                return queryset
            case "breached":
                return queryset.filter(sla_due_at__lt=timezone.now())
            case "on_time":
                return queryset.filter(sla_due_at__gte=timezone.now())
        raise IncorrectLookupParameters(f"{self.value()!r} is no SLA choice.")


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("me", "Me"), ("none", "Nobody"), ("others", "Someone else")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        match self.value():
            case None:
                return queryset
            case "me":
                return queryset.filter(assigned_to=request.user)
            case "none":
                return queryset.filter(assigned_to__isnull=True)
            case "others":
                return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user)
        raise IncorrectLookupParameters(f"{self.value()!r} is no assignment choice.")


class InputFilter(admin.SimpleListFilter):
    """A filter on a typed value, for tables too large to list as links (thousands of brands, millions
    of sellers): a text input instead of a choice per row."""

    template = "admin/cases/input_filter.html"
    placeholder = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        # One "choice" carries what the template needs: the value, and the other parameters to keep.
        keep = {name: value for name, value in changelist.params.items() if name not in (self.parameter_name, PAGE_VAR)}
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name, PAGE_VAR]),
            "display": "All",
            "parameter": self.parameter_name,
            "value": self.value() or "",
            "placeholder": self.placeholder,
            "keep": sorted(keep.items()),
        }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> models.QuerySet[CaseItem]:
        value = (self.value() or "").strip()
        return self.filter_value(queryset, value) if value else queryset

    def filter_value(self, queryset: models.QuerySet[CaseItem], value: str) -> models.QuerySet[CaseItem]:
        raise NotImplementedError


class BrandFilter(InputFilter):
    title = "brand"
    parameter_name = "brand"
    placeholder = "Name or slug"

    def filter_value(self, queryset: models.QuerySet[CaseItem], value: str) -> models.QuerySet[CaseItem]:
        # Brands number in the thousands: a scan of their names is cheap, the items' brand index does the rest.
        brands = Brand.objects.filter(models.Q(slug=value) | models.Q(name__icontains=value))
        return queryset.filter(brand__in=brands.values("pk"))


class SellerFilter(InputFilter):
    title = "seller"
    parameter_name = "seller"
    placeholder = "Marketplace's seller id"

    def filter_value(self, queryset: models.QuerySet[CaseItem], value: str) -> models.QuerySet[CaseItem]:
        return queryset.filter(listing__seller__external_id=value)


# --- decision forms -------------------------------------------------------------------------------


def _text(
    label: str, *, required: bool = False, max_length: int = 5000, rows: int = 3, help_text: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
    )


class DecisionForm(forms.Form):
    """A decision's form, for one item (its page) or many (the queue's confirmation page).

    `apply` calls the service for each item; the template shows the primary fields, the statement of
    reasons' fields (acceptances only) and the take-over box apart.
    """

    STATEMENT_FIELDS: Sequence[str] = ()

    take_over = forms.BooleanField(
        label="Take over items assigned to other moderators",
        required=False,
        help_text="Without it, an item another moderator works on is left to them and reported.",
    )

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        raise NotImplementedError

    @property
    def primary_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "take_over" and name not in self.STATEMENT_FIELDS]

    @property
    def statement_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.STATEMENT_FIELDS]

    @property
    def take_over_fields(self) -> list[forms.BoundField]:
        return [self["take_over"]]


def _eea_codes(value: str) -> list[str]:
    codes = sorted({code.upper() for code in value.replace(",", " ").split()})
    unknown = [code for code in codes if code not in EEA_COUNTRIES]
    if unknown:
        raise ValidationError(f"Not EU or EEA country codes: {', '.join(unknown)}.")
    return codes


class AcceptForm(DecisionForm):
    """Accept: the listing is removed and the seller gets a statement of reasons, whose fields default to
    what fits a person's decision on an Art. 16 notice (blank ones take each item's own default)."""

    STATEMENT_FIELDS = (
        "decision_visibility",
        "end_date_visibility_restriction",
        "decision_ground",
        "legal_ground",
        "explanation",
        "category_specification",
        "territorial_scope",
        "application_date",
        "source_type",
        "automated_detection",
        "automated_decision",
        "redress",
    )

    message = _text(
        "Message",
        help_text="Shown to the brand, and the facts of the seller's statement of reasons. "
        "Blank: the brand's note on the listing.",
    )
    decision_visibility = forms.MultipleChoiceField(
        label="Restriction",
        choices=DecisionVisibility.choices,
        initial=[DecisionVisibility.CONTENT_REMOVED],
        widget=forms.CheckboxSelectMultiple,
    )
    end_date_visibility_restriction = forms.DateField(
        label="Restriction ends",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: none.",
    )
    decision_ground = forms.ChoiceField(
        label="Ground", choices=DecisionGround.choices, initial=DecisionGround.ILLEGAL_CONTENT
    )
    legal_ground = forms.CharField(
        label="Legal ground",
        required=False,
        max_length=STATEMENT_MAX_LENGTHS["legal_ground"],
        help_text="Blank: the law each item's reason code relies on.",
        widget=forms.TextInput(attrs={"size": 80}),
    )
    explanation = _text(
        "Explanation",
        max_length=STATEMENT_MAX_LENGTHS["explanation"],
        rows=2,
        help_text="Why the listing is illegal. Blank: a sentence naming the notice and its reason.",
    )
    category_specification = forms.MultipleChoiceField(
        label="DSA keywords",
        required=False,
        choices=[(keyword, keyword) for keyword in sorted(set(DSA_KEYWORDS.values()))],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the keyword of each item's reason code.",
    )
    territorial_scope = forms.CharField(
        label="Territorial scope",
        required=False,
        help_text="EU or EEA country codes (e.g. DE FR). Blank: not limited to some countries.",
    )
    application_date = forms.DateField(
        label="Applies from", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    source_type = forms.ChoiceField(label="Source", choices=SourceType.choices, initial=SourceType.ARTICLE_16)
    automated_detection = forms.BooleanField(label="Detected by automated means", required=False)
    automated_decision = forms.ChoiceField(
        label="Automated decision", choices=AutomatedDecision.choices, initial=AutomatedDecision.NOT_AUTOMATED
    )
    redress = forms.MultipleChoiceField(
        label="Redress offered",
        required=False,
        choices=Redress.choices,
        initial=Redress.values,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_territorial_scope(self) -> list[str]:
        return _eea_codes(self.cleaned_data["territorial_scope"])

    def statement(self) -> StatementInput:
        data = self.cleaned_data
        return StatementInput(
            decision_visibility=data["decision_visibility"],
            end_date_visibility_restriction=data["end_date_visibility_restriction"],
            decision_ground=data["decision_ground"],
            legal_ground=data["legal_ground"] or None,
            explanation=data["explanation"] or None,
            category_specification=data["category_specification"] or None,
            territorial_scope=data["territorial_scope"],
            application_date=data["application_date"],
            source_type=data["source_type"],
            automated_detection=data["automated_detection"],
            automated_decision=data["automated_decision"],
            redress=data["redress"],
        )

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        return services.items_accept(
            item_ids=item_ids,
            actor=actor,
            message=self.cleaned_data["message"],
            statement=self.statement(),
            take_over=self.cleaned_data["take_over"],
        )


class RejectForm(DecisionForm):
    code = forms.ChoiceField(
        label="Rejection code",
        # The brand sees the guidance under the rejection: the moderator reads it when choosing the code.
        choices=[("", "---------")]
        + [(code, f"{label}: {REJECTION_FIX_GUIDANCE[code]}") for code, label in RejectionCode.choices],
        widget=forms.Select(attrs={"class": "console-rejection-code"}),
    )
    message = _text("Message", help_text="Shown to the brand with the code and its “how to fix” text.")

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        data = self.cleaned_data
        return services.items_each(
            item_ids=item_ids,
            apply=lambda item_id: services.item_reject(
                item_id=item_id, actor=actor, code=data["code"], message=data["message"], take_over=data["take_over"]
            ),
        )


class ClarifyForm(DecisionForm):
    message = _text("Question", required=True, help_text="What the brand must clarify; it amends and resubmits.")

    def apply(self, *, item_ids: Sequence[int], actor: Any) -> BulkOutcome:
        data = self.cleaned_data
        return services.items_each(
            item_ids=item_ids,
            apply=lambda item_id: services.item_request_clarification(
                item_id=item_id, actor=actor, message=data["message"], take_over=data["take_over"]
            ),
        )


@dataclass(frozen=True)
class Decision:
    """A decision moderators take on reported listings: a queue action and a form on the item page."""

    name: str
    label: str
    past: str
    form_class: type[DecisionForm]


ACCEPT = Decision("accept", "Accept", "accepted", AcceptForm)
REJECT = Decision("reject", "Reject", "rejected", RejectForm)
CLARIFY = Decision("clarify", "Request clarification", "asked for clarification", ClarifyForm)
DECISIONS = {decision.name: decision for decision in (ACCEPT, REJECT, CLARIFY)}


class AppealDecisionForm(forms.Form):
    OVERTURN, UPHOLD = "overturn", "uphold"

    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[(UPHOLD, "Uphold the decision"), (OVERTURN, "Overturn the decision")],
        widget=forms.RadioSelect,
    )
    note = _text("Reasons", required=True, help_text="Shown to both sides.")


# --- cases ----------------------------------------------------------------------------------------


class CaseItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseItem
    extra = 0
    ordering = ("id",)
    show_change_link = True
    fields = ("listing", "status", "sla_due_at", "assigned_to", "decided_by", "decided_at", "rejection_code")
    raw_id_fields = ("listing", "assigned_to", "decided_by")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[CaseItem]:
        return super().get_queryset(request).select_related("listing", "assigned_to", "decided_by")


class DeclarationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Declaration
    extra = 0
    fields = ("kind", "signed_name", "signed_by", "signed_at", "ip_address", "statement")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Declaration]:
        return super().get_queryset(request).select_related("signed_by")


class EvidenceInline(ReadOnlyAdminMixin, StoredDocumentInline):
    model = Evidence
    fk_name = "case"
    document_fields = ("kind", "item", "description")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Evidence]:
        return super().get_queryset(request).select_related("item")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("id", "brand", "lane", "reason_code", "channel", "status", "item_count", "filed_by", "submitted_at")
    list_select_related = ("brand", "filed_by")
    list_filter = ("status", "lane", "reason_code", "channel")
    search_fields = ("id__exact", "brand__name", "idempotency_key__exact")
    search_help_text = "The case number, part of the brand's name, or the client's exact idempotency key."
    date_hierarchy = "submitted_at"
    ordering = ("-pk",)
    raw_id_fields = ("brand", "filed_by")
    fieldsets = (
        (None, {"fields": ("brand", "status", "lane", "reason_code", "rights", "explanation", "items")}),
        ("Filing", {"fields": ("filed_by", "submitted_at", "channel", "idempotency_key")}),
    )
    readonly_fields = ("items",)
    inlines = (CaseItemInline, DeclarationInline, EvidenceInline)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Case]:
        return (
            super()
            .get_queryset(request)
            .annotate(item_count=correlated_aggregate(CaseItem.objects.all(), fk="case", aggregate=models.Count("pk")))
        )

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj: Case) -> int:
        return obj.item_count

    @admin.display(description="items")
    def items(self, obj: Case) -> str:
        # Every status: the item list alone defaults to the items waiting for a decision.
        url = changelist_url(CaseItem, case__id__exact=obj.pk, status=QueueStatusFilter.ALL)
        return format_html('<a href="{}">{} reported listings</a>', url, obj.item_count)


class ConsoleAdminMixin:
    """The console's stylesheet, and the names of the views a console admin adds to the stock ones."""

    class Media:
        css = {"all": ("css/admin-console.css",)}

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _url(self, view: str, *args: Any) -> str:
        return reverse(f"{self.admin_site.name}:{self._url_name(view)}", args=args)

    def _item_link(self, item: CaseItem) -> str:
        url = reverse(f"{self.admin_site.name}:cases_caseitem_change", args=[item.pk])
        return format_html('<a href="{}">{}</a>', url, item)


@admin.register(CaseItem)
class CaseItemAdmin(ConsoleAdminMixin, PagePanelAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The review queue (the changelist) and the item page where a moderator decides (the change view)."""

    list_display = (
        "id",
        "lane_column",
        "sla_column",
        "brand",
        "listing_column",
        "seller_column",
        "reason_code",
        "status",
        "assigned_to",
    )
    list_select_related = ("brand", "listing__marketplace", "listing__seller", "assigned_to")
    list_filter = (
        QueueStatusFilter,
        "lane",
        "reason_code",
        BrandFilter,
        "listing__marketplace",
        SellerFilter,
        AgeFilter,
        SlaFilter,
        AssignedFilter,
    )
    # Declared so that the admin shows its search box; `get_search_results` does the searching.
    search_fields = ("listing__url",)
    search_help_text = "A listing's URL (exact), part of its title, or a seller's name or exact marketplace id."
    # The order is the queue's (`get_ordering`); sorting by a column would leave every index.
    sortable_by = ()
    raw_id_fields = ("case", "brand", "listing", "assigned_to", "decided_by")
    fieldsets = (
        (None, {"fields": ("case", "brand", "listing", "lane", "reason_code", "status", "brand_note")}),
        ("Review", {"fields": ("submitted_at", "sla_due_at", "assigned_to", "assigned_at", "status_changed_at")}),
        ("Decision", {"fields": ("decided_by", "decided_at", "rejection_code", "moderator_message")}),
        (
            "Deadlines",
            {"fields": ("clarification_due_at", "counter_notice_due_at", "brand_answer_due_at", "appeal_until")},
        ),
    )
    change_form_template = "admin/cases/caseitem/change_form.html"
    confirmation_template = "admin/cases/caseitem/decide_selected.html"
    actions = ("assign_to_me", "release", "accept_items", "reject_items", "clarify_items")

    #: The queue's order: lane priority ("expedited" sorts before "standard"), then SLA due time.
    QUEUE_ORDERING = ("lane", "sla_due_at", "pk")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[CaseItem]:
        # The item page shows every one of these; the changelist joins them for its columns anyway.
        return (
            super()
            .get_queryset(request)
            .select_related("case", "brand", "listing__marketplace", "listing__seller", "assigned_to", "decided_by")
        )

    def get_ordering(self, request: HttpRequest) -> Sequence[str]:
        """The queue's order for items waiting for a decision; newest first for the others, whose SLA is
        history (and whose lane-and-SLA order no index serves)."""
        status = request.GET.get(QueueStatusFilter.parameter_name, QueueStatusFilter.TO_DECIDE)
        return self.QUEUE_ORDERING if status in QueueStatusFilter.QUEUE_VALUES else ("-pk",)

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[CaseItem], search_term: str
    ) -> tuple[models.QuerySet[CaseItem], bool]:
        """A URL is looked up exactly (unique index); any other text in listing titles and seller names
        (trigram indexes on their UPPER()) and seller ids (exact). The listings matched by each index are
        united in one subquery: an OR across the joined tables would defeat all three indexes."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.lower().startswith(("http://", "https://")):
            try:
                return queryset.filter(listing__url=normalise_listing_url(term)), False
            except ValueError:
                return queryset.none(), False
        needle = term.upper()
        sellers = Seller.objects.annotate(upper_name=Upper("name")).filter(
            models.Q(upper_name__contains=needle) | models.Q(external_id=term)
        )
        by_title = Listing.objects.annotate(upper_title=Upper("title")).filter(upper_title__contains=needle)
        by_seller = Listing.objects.filter(seller__in=sellers.values("pk"))
        return queryset.filter(listing__in=by_title.values("pk").union(by_seller.values("pk"))), False

    def has_decide_permission(self, request: HttpRequest, obj: CaseItem | None = None) -> bool:
        """May accept, reject, ask for clarification, assign and release (the actions' `decide` permission)."""
        return request.user.has_perm(DECIDE_PERMISSION)

    # --- columns ---

    @admin.display(description="lane")
    def lane_column(self, obj: CaseItem) -> str:
        return format_html('<span class="console-lane console-lane-{}">{}</span>', obj.lane, obj.get_lane_display())

    @admin.display(description="SLA due")
    def sla_column(self, obj: CaseItem) -> SafeString | str:
        if obj.status not in services.ASSIGNABLE_STATUSES:
            return self.get_empty_value_display()
        return time_left(obj.sla_due_at)

    @admin.display(description="listing")
    def listing_column(self, obj: CaseItem) -> str:
        # The title (or, until the marketplace reports it, the URL without its scheme) opens the listing.
        listing = obj.listing
        return format_html(
            '<a href="{}" title="{}" rel="noopener noreferrer nofollow">{}</a><br><small>{}</small>',
            listing.url,
            listing.url,
            listing.title or listing.url.removeprefix("https://"),
            listing.marketplace.name,
        )

    @admin.display(description="seller")
    def seller_column(self, obj: CaseItem) -> str:
        seller = obj.listing.seller
        if seller is None:
            return "Not known yet"
        return format_html("{} <small>({})</small>", seller.name, seller.external_id)

    # --- the item page ---

    def page_context(self, request: HttpRequest, item: CaseItem) -> dict[str, Any]:
        can_decide = self.has_decide_permission(request)
        assignable = item.status in services.ASSIGNABLE_STATUSES
        decidable = item.status in services.ALLOWED_FROM["accept"]
        return {
            "console": selectors.item_console(item),
            "snapshot_json": json.dumps(item.listing.snapshot, indent=2, ensure_ascii=False, sort_keys=True),
            "can_view_evidence": request.user.has_perm(VIEW_EVIDENCE_PERMISSION),
            "can_assign": can_decide and assignable and item.assigned_to_id != request.user.pk,
            "can_release": can_decide and assignable and item.assigned_to_id == request.user.pk,
            "assigned_to_other": item.assigned_to_id is not None and item.assigned_to_id != request.user.pk,
            "assign_url": self._url("assign", item.pk),
            "release_url": self._url("release", item.pk),
            "decision_forms": [
                (decision, decision.form_class(prefix=decision.name), self._url("decide", item.pk, decision.name))
                for decision in DECISIONS.values()
            ]
            if can_decide and decidable
            else [],
        }

    # --- views ---

    def get_urls(self) -> list[URLPattern]:
        # Ahead of the stock URLs, whose "<path:object_id>/" pattern would swallow these.
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/assign/", wrap(self.assign_view), name=self._url_name("assign")),
            path("<int:object_id>/release/", wrap(self.release_view), name=self._url_name("release")),
            path("<int:object_id>/decide/<str:decision>/", wrap(self.decide_view), name=self._url_name("decide")),
            path(
                "<int:object_id>/right-documents/<int:document_id>/",
                wrap(self.right_document_view),
                name=self._url_name("right_document"),
            ),
            *super().get_urls(),
        ]

    def _back_to_item(self, item_id: int) -> HttpResponse:
        return redirect(self._url("change", item_id))

    def _item_or_404(self, item_id: int) -> CaseItem:
        return get_object_or_404(CaseItem.objects.only("pk"), pk=item_id)

    @method_decorator(require_POST)
    def assign_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Assign the item to the requesting moderator; taking it over from another needs the box ticked."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        item = self._item_or_404(object_id)
        outcome = services.items_each(
            item_ids=[item.pk],
            apply=lambda item_id: services.item_assign(
                item_id=item_id, actor=request.user, force=bool(request.POST.get("take_over"))
            ),
        )
        self._report(request, outcome, past="assigned to you")
        return self._back_to_item(item.pk)

    @method_decorator(require_POST)
    def release_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self.has_decide_permission(request):
            raise PermissionDenied
        item = self._item_or_404(object_id)
        outcome = services.items_each(
            item_ids=[item.pk], apply=lambda item_id: services.item_release(item_id=item_id, actor=request.user)
        )
        self._report(request, outcome, past="released")
        return self._back_to_item(item.pk)

    @method_decorator(require_POST)
    def decide_view(self, request: HttpRequest, object_id: int, decision: str) -> HttpResponse:
        """One decision on one item, from the forms on its page."""
        if not self.has_decide_permission(request):
            raise PermissionDenied
        item = self._item_or_404(object_id)
        chosen = DECISIONS.get(decision)
        if chosen is None:
            raise Http404(f"No decision {decision!r}.")
        form = chosen.form_class(request.POST, prefix=chosen.name)
        if form.is_valid():
            self._report(request, form.apply(item_ids=[item.pk], actor=request.user), past=chosen.past)
        else:
            self._report_form_errors(request, form, chosen)
        return self._back_to_item(item.pk)

    def right_document_view(self, request: HttpRequest, object_id: int, document_id: int) -> FileResponse:
        """A document of a right the item's case relies on (its certificate, an authorisation), as a download."""
        if not request.user.has_perm(VIEW_EVIDENCE_PERMISSION):
            raise PermissionDenied
        document = get_object_or_404(IPRightDocument, pk=document_id, right__cases__items__id=object_id)
        return document.as_attachment()

    # --- actions on the queue ---

    def _selected_ids(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> list[int]:
        """The ticked items, whatever the list's filters now say about them: an item another moderator
        decided since the page was drawn is then refused with its reason instead of silently left out.
        A selection across all pages takes the filtered list, up to one more than BULK_DECIDE_MAX."""
        if request.POST.get("select_across") == "1":
            return list(queryset.values_list("pk", flat=True)[: BULK_DECIDE_MAX + 1])
        ticked = [value for value in request.POST.getlist(ACTION_CHECKBOX_NAME) if value.isdigit()]
        found = set(CaseItem.objects.filter(pk__in=ticked).values_list("pk", flat=True))
        return [int(value) for value in dict.fromkeys(ticked) if int(value) in found]

    def _too_many(self, request: HttpRequest, item_ids: Sequence[int]) -> bool:
        if len(item_ids) <= BULK_DECIDE_MAX:
            return False
        self.message_user(
            request,
            f"Select at most {BULK_DECIDE_MAX} items for one decision; filter the queue to narrow the selection.",
            messages.ERROR,
        )
        return True

    @admin.action(description="Assign selected items to me", permissions=["decide"])
    def assign_to_me(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> None:
        item_ids = self._selected_ids(request, queryset)
        if self._too_many(request, item_ids):
            return
        outcome = services.items_each(
            item_ids=item_ids, apply=lambda item_id: services.item_assign(item_id=item_id, actor=request.user)
        )
        self._report(request, outcome, past="assigned to you")

    @admin.action(description="Release selected items assigned to me", permissions=["decide"])
    def release(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> None:
        item_ids = self._selected_ids(request, queryset)
        if self._too_many(request, item_ids):
            return
        outcome = services.items_each(
            item_ids=item_ids, apply=lambda item_id: services.item_release(item_id=item_id, actor=request.user)
        )
        self._report(request, outcome, past="released")

    @admin.action(description="Accept selected items…", permissions=["decide"])
    def accept_items(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> HttpResponse | None:
        return self._decide_selected(request, queryset, ACCEPT)

    @admin.action(description="Reject selected items…", permissions=["decide"])
    def reject_items(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> HttpResponse | None:
        return self._decide_selected(request, queryset, REJECT)

    @admin.action(description="Request clarification on selected items…", permissions=["decide"])
    def clarify_items(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> HttpResponse | None:
        return self._decide_selected(request, queryset, CLARIFY)

    def _decide_selected(
        self, request: HttpRequest, queryset: models.QuerySet[CaseItem], decision: Decision
    ) -> HttpResponse | None:
        """The confirmation page (the selected items and the decision's form); applied when it is posted
        back with `apply`. None sends the moderator back to the queue with the outcome."""
        item_ids = self._selected_ids(request, queryset)
        if self._too_many(request, item_ids):
            return None
        if "apply" in request.POST:
            form = decision.form_class(request.POST, prefix=decision.name)
            if form.is_valid():
                self._report(request, form.apply(item_ids=item_ids, actor=request.user), past=decision.past)
                return None
        else:
            form = decision.form_class(prefix=decision.name)
        listed = (
            CaseItem.objects.filter(pk__in=item_ids)
            .select_related("brand", "listing__seller", "assigned_to")
            .order_by(*self.QUEUE_ORDERING)[:ITEMS_LISTED]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{decision.label}: {_items(len(item_ids))}",
            "opts": self.opts,
            "media": self.media + form.media,
            "decision": decision,
            "form": form,
            "action": request.POST.get("action", ""),
            "item_ids": item_ids,
            "items": listed,
            "unlisted": max(0, len(item_ids) - ITEMS_LISTED),
            "direct_accept_max": services.direct_accept_max(),
            "by_job": decision is ACCEPT and len(item_ids) > services.direct_accept_max(),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.confirmation_template, context)

    # --- reporting ---

    def _item_links(self, item_ids: Sequence[int]) -> SafeString:
        named = item_ids[:ITEMS_NAMED]
        links = format_html_join(", ", '<a href="{}">#{}</a>', ((self._url("change", pk), pk) for pk in named))
        rest = len(item_ids) - len(named)
        return format_html("{} and {} more", links, rest) if rest else links

    def _report(self, request: HttpRequest, outcome: BulkOutcome, *, past: str) -> None:
        """One success message (with the delisting job, if one removes the listings) and one warning that
        gives each refused item's reason, as the service worded it."""
        if outcome.done:
            message = format_html(
                "{} {}: {}.", _items(len(outcome.done)).capitalize(), past, self._item_links(outcome.done)
            )
            if outcome.job is not None:
                job_url = reverse(f"{self.admin_site.name}:listings_delistjob_change", args=[outcome.job.pk])
                message = format_html(
                    '{} Their listings are removed in the background by <a href="{}">delisting job #{}</a>.',
                    message,
                    job_url,
                    outcome.job.pk,
                )
            self.message_user(request, message, messages.SUCCESS)
        if outcome.refused:
            reasons = list(outcome.refused.values())
            shown = format_html_join(mark_safe("<br>"), "{}", ((reason,) for reason in reasons[:ITEMS_NAMED]))
            rest = len(reasons) - ITEMS_NAMED
            more = format_html("<br>… and {} more.", rest) if rest > 0 else ""
            message = format_html("Not {}: {}.<br>{}{}", past, _items(len(reasons)), shown, more)
            self.message_user(request, message, messages.WARNING)

    def _report_form_errors(self, request: HttpRequest, form: forms.Form, decision: Decision) -> None:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            prefix = f"{label}: " if label else ""
            self.message_user(request, f"{decision.label}: {prefix}{' '.join(errors)}", messages.ERROR)


@admin.register(Evidence)
class EvidenceAdmin(ConsoleAdminMixin, StoredDocumentAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("original_name", "case", "item", "kind", "content_type", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("case", "item", "uploaded_by")
    list_filter = ("kind",)
    search_fields = ("original_name", "sha256__exact", "case__id__exact")
    search_help_text = "Part of the file name, its exact SHA-256, or the case number."
    ordering = ("-pk",)
    raw_id_fields = ("case", "item", "counter_notice", "uploaded_by")
    fields = (
        "case",
        "item",
        "counter_notice",
        "kind",
        "description",
        "download",
        *StoredDocumentAdminMixin.stored_document_fields,
    )
    readonly_fields = ("download", *StoredDocumentAdminMixin.stored_document_fields)

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:object_id>/download/", self.admin_site.admin_view(self.download_view), name=self._url_name("download")
        )
        return [download, *super().get_urls()]

    def download_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        """The evidence file as a download, for staff allowed to see evidence (private storage has no URL)."""
        if not request.user.has_perm(VIEW_EVIDENCE_PERMISSION):
            raise PermissionDenied
        return get_object_or_404(Evidence, pk=object_id).as_attachment()

    @admin.display(description="file")
    def download(self, obj: Evidence) -> str:
        return format_html('<a href="{}">Download {}</a>', self._url("download", obj.pk), obj.original_name)


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    list_display = ("case", "kind", "signed_name", "signed_by", "signed_at", "ip_address")
    list_select_related = ("case", "signed_by")
    list_filter = ("kind",)
    search_fields = ("signed_name", "case__id__exact")
    search_help_text = "Part of the signer's typed name, or the case number."
    ordering = ("-pk",)
    raw_id_fields = ("case", "signed_by")
    fields = ("case", "kind", "statement", "signed_name", "signed_by", "signed_at", "ip_address")


@admin.register(CounterNotice)
class CounterNoticeAdmin(ConsoleAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The counter-notice queue: those waiting for the brand's answer first, the nearest deadline first."""

    list_display = ("__str__", "item_link", "reason", "answer", "answer_due", "received_at", "answered_at")
    list_select_related = ("item",)
    list_filter = ("answer", "reason", "attempt")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = (
        models.Case(models.When(answer=CounterNoticeAnswer.PENDING, then=0), default=1).asc(),
        "answer_due_at",
        "pk",
    )
    sortable_by = ()
    raw_id_fields = ("item", "recorded_by", "answered_by")
    fieldsets = (
        (None, {"fields": ("item", "attempt", "reason", "explanation", "received_at", "recorded_by")}),
        ("Brand's answer", {"fields": ("answer", "answer_due_at", "answered_at", "answered_by", "answer_note")}),
    )

    @admin.display(description="item")
    def item_link(self, obj: CounterNotice) -> str:
        return self._item_link(obj.item)

    @admin.display(description="answer due")
    def answer_due(self, obj: CounterNotice) -> SafeString | str:
        return (
            time_left(obj.answer_due_at)
            if obj.answer == CounterNoticeAnswer.PENDING
            else self.get_empty_value_display()
        )


@admin.register(Appeal)
class AppealAdmin(ConsoleAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """The appeal queue (open appeals first, oldest first) and the page where a lead decides one."""

    list_display = (
        "__str__",
        "item_link",
        "appellant",
        "contested_status",
        "status",
        "waiting",
        "original_decider",
        "decided_by",
        "decided_at",
    )
    list_select_related = ("item", "original_decider", "decided_by")
    list_filter = ("status", "appellant", "contested_status")
    search_fields = ("item__id__exact",)
    search_help_text = "The id of the case item."
    ordering = (models.Case(models.When(status=AppealStatus.OPEN, then=0), default=1).asc(), "filed_at", "pk")
    sortable_by = ()
    raw_id_fields = ("item", "filed_by", "original_decider", "decided_by")
    fieldsets = (
        (None, {"fields": ("item_link", "appellant", "contested_status", "grounds", "filed_at", "filed_by")}),
        ("Decision", {"fields": ("status", "original_decider", "decided_by", "decided_at", "decision_note")}),
    )
    readonly_fields = ("item_link",)
    change_form_template = "admin/cases/appeal/change_form.html"

    @admin.display(description="item")
    def item_link(self, obj: Appeal) -> str:
        return self._item_link(obj.item)

    @admin.display(description="waiting")
    def waiting(self, obj: Appeal) -> str:
        if obj.status != AppealStatus.OPEN:
            return self.get_empty_value_display()
        return f"filed {time_left_text(obj.filed_at, timezone.now())}"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Appeal]:
        return super().get_queryset(request).select_related("item", "filed_by", "original_decider", "decided_by")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Appeal | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.status == AppealStatus.OPEN and request.user.has_perm(DECIDE_APPEAL_PERMISSION):
            context["appeal_form"] = AppealDecisionForm()
            context["appeal_decide_url"] = self._url("decide", obj.pk)
            context["appeal_by_original_decider"] = obj.original_decider_id == request.user.pk
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<int:object_id>/decide/", self.admin_site.admin_view(self.decide_view), name=self._url_name("decide")
        )
        return [decide, *super().get_urls()]

    @method_decorator(require_POST)
    def decide_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Uphold or overturn the contested decision through the service, which refuses the moderator
        who made it; its refusal is shown as it is worded."""
        if not request.user.has_perm(DECIDE_APPEAL_PERMISSION):
            raise PermissionDenied
        appeal = get_object_or_404(Appeal, pk=object_id)
        form = AppealDecisionForm(request.POST)
        if not form.is_valid():
            for name, errors in form.errors.items():
                self.message_user(request, f"{form.fields[name].label}: {' '.join(errors)}", messages.ERROR)
        elif appeal.status != AppealStatus.OPEN:
            self.message_user(request, f"{appeal} was already decided.", messages.ERROR)
        else:
            overturn = form.cleaned_data["outcome"] == AppealDecisionForm.OVERTURN
            try:
                services.item_decide_appeal(
                    item_id=appeal.item_id, actor=request.user, overturn=overturn, note=form.cleaned_data["note"]
                )
            except services.TransitionNotAllowed as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                outcome = "overturned" if overturn else "upheld"
                self.message_user(request, f"{appeal}: the decision was {outcome}.", messages.SUCCESS)
        return redirect(self._url("change", appeal.pk))


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


@admin.register(CaseDraft)
class CaseDraftAdmin(ReadOnlyAdminMixin, ScaleAdminMixin, admin.ModelAdmin):
    """Filings between preview and submit: visible for support, never edited."""

    list_display = ("id", "brand", "created_by", "state", "rows_done", "rows_total", "case", "created_at", "expires_at")
    list_select_related = ("brand", "created_by")
    list_filter = ("state",)
    ordering = ("-created_at",)
    raw_id_fields = ("brand", "created_by", "case")
    exclude = ("input_rows", "checked_rows")
