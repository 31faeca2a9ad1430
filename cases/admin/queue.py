"""The review queue and the item page: `CaseItemAdmin`.

The queue is the case item changelist itself rather than a proxy model: a proxy would need a model, a
migration and permissions of its own, while the queue is just a default view of the items. Unless another
status is chosen it shows the items waiting for a decision, by lane priority (MarketSafe members first),
then with the items a "lower priority" risk rule hit behind the others until their SLA is close, then by SLA
due time (`cases.querysets.QUEUE_ORDERING`, served by the partial index `item_queue_priority_idx`); the status
filter's "All items" choice shows the rest.

Decisions take one item from its page or many from the queue through a confirmation page. The services
refuse items one by one (another moderator's item, a status that changed meanwhile); the others go ahead
and the refusals are reported with their reasons. A large acceptance removes its listings through one
delisting job, linked in the success message (`services.items_accept`).
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.functions import Upper
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from brands.models import IPRightDocument
from cases import selectors, services
from cases.admin.bulk_background import BulkDecisionViews, start_in_background
from cases.admin.console import DECIDE_PERMISSION, VIEW_EVIDENCE_PERMISSION, ConsoleAdminMixin
from cases.admin.filters import AgeFilter, AssignedFilter, BrandFilter, QueueStatusFilter, SellerFilter, SlaFilter
from cases.admin.forms import ACCEPT, CLARIFY, DECISIONS, REJECT, Decision, DecisionForm
from cases.models import CaseItem
from cases.querysets import QUEUE_ORDERING
from cases.services import BulkOutcome
from cases.templatetags.cases_extras import sla_short
from core.admin.mixins import PagePanelAdminMixin, ReadOnlyAdminMixin, ScaleAdminMixin
from core.kept_forms import keep_typed, typed_data
from listings.models import Listing, Seller
from listings.services import normalise_listing_url

#: Most items one decision takes from the queue. Each decision runs its service in the request (only
#: the listings of a large acceptance go to a background job), so a selection across every page of the
#: queue is refused beyond this rather than holding the request for minutes.
BULK_DECIDE_MAX = 500
#: Items named one by one in a message or on the confirmation page; the rest are counted.
ITEMS_NAMED = 20
ITEMS_LISTED = 100


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


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
        "reason_column",
        "status",
        "assigned_to",
    )
    list_select_related = ("brand", "listing__marketplace", "listing__seller", "assigned_to")
    list_filter = (
        QueueStatusFilter,
        "lane",
        "case__automated",
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
        return QUEUE_ORDERING if status in QueueStatusFilter.QUEUE_VALUES else ("-pk",)

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
        lane = format_html('<span class="console-lane console-lane-{}">{}</span>', obj.lane, obj.get_lane_display())
        if not obj.case.automated:
            return lane
        # A notice filed by automated re-listing detection on the brand's behalf, not by a person: marked in
        # the lane's cell, not a column of its own, so that every column still fits beside the filter panel
        # on a laptop screen (tests/browser/test_console_pages.py).
        return format_html(
            '{} <abbr class="console-auto" title="{}">auto</abbr>',
            lane,
            "Automated detection: filed by re-listing detection on the brand's behalf",
        )

    # Every column holds one line (long texts are clipped, whole in their tooltip), so that a laptop screen
    # shows 20+ rows of the queue (admin-console.css, tests/browser/test_console_pages.py).

    @admin.display(description="SLA")
    def sla_column(self, obj: CaseItem) -> SafeString | str:
        if obj.status not in services.ASSIGNABLE_STATUSES:
            return self.get_empty_value_display()
        return sla_short(obj.sla_due_at)

    @admin.display(description="listing")
    def listing_column(self, obj: CaseItem) -> str:
        # The title (or, until the marketplace reports it, the URL without its scheme) opens the listing.
        listing = obj.listing
        return format_html(
            '<span class="console-clip"><small>{}</small> <a href="{}" title="{}" rel="noopener noreferrer nofollow">'
            "{}</a></span>",
            listing.marketplace.name,
            listing.url,
            listing.url,
            listing.title or listing.url.removeprefix("https://"),
        )

    @admin.display(description="seller")
    def seller_column(self, obj: CaseItem) -> str:
        seller = obj.listing.seller
        if seller is None:
            return format_html('<span class="console-quiet">{}</span>', "Not known yet")
        label = f"{seller.name} ({seller.external_id})"
        return format_html('<span class="console-clip" title="{}">{}</span>', label, label)

    @admin.display(description="reason")
    def reason_column(self, obj: CaseItem) -> str:
        label = obj.get_reason_code_display()
        return format_html('<span class="console-clip console-clip-short" title="{}">{}</span>', label, label)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The queue under its own name, without the admin's navigation sidebar, whose width the queue's
        columns need on a laptop screen (the breadcrumbs and the site header still lead everywhere)."""
        status = request.GET.get(QueueStatusFilter.parameter_name, QueueStatusFilter.TO_DECIDE)
        title = "Review queue" if status in QueueStatusFilter.QUEUE_VALUES else "Reported listings"
        context = {"title": title, "subtitle": None, "is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    # --- the item page ---

    def page_context(self, request: HttpRequest, item: CaseItem) -> dict[str, Any]:
        can_decide = self.has_decide_permission(request)
        assignable = item.status in services.ASSIGNABLE_STATUSES
        decidable = services.ITEM_TRANSITIONS.allows(item, "accept")
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
                (decision, self._decision_form(request, item.pk, decision), self._url("decide", item.pk, decision.name))
                for decision in DECISIONS.values()
            ]
            if can_decide and decidable
            else [],
        }

    def _decision_form(self, request: HttpRequest, item_id: int, decision: Decision) -> DecisionForm:
        """The decision's form, with what the moderator typed and its errors after a refusal (`core.kept_forms`)."""
        typed = typed_data(request, f"item-decision:{item_id}:{decision.name}")
        form = decision.form_class(typed, prefix=decision.name)
        if typed is not None:
            form.is_valid()
        return form

    # --- views ---

    def get_urls(self) -> list[URLPattern]:
        # Ahead of the stock URLs, whose "<path:object_id>/" pattern would swallow these.
        wrap = self.admin_site.admin_view
        return [
            *BulkDecisionViews(self).urls(),
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
        force = bool(request.POST.get("take_over"))
        self._apply(request, [item.pk], services.item_assign, past="assigned to you", force=force)
        return self._back_to_item(item.pk)

    @method_decorator(require_POST)
    def release_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self.has_decide_permission(request):
            raise PermissionDenied
        item = self._item_or_404(object_id)
        self._apply(request, [item.pk], services.item_release, past="released")
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
            outcome = form.apply(item_ids=[item.pk], actor=request.user)
            self._report(request, outcome, past=chosen.past)
            refused = bool(outcome.refused)
        else:
            self._report_form_errors(request, form, chosen)
            refused = True
        if refused:  # the form comes back with what the moderator typed
            keep_typed(request, f"item-decision:{item.pk}:{chosen.name}", form)
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

    def _apply(
        self, request: HttpRequest, item_ids: Sequence[int], service: Callable[..., object], *, past: str, **kwargs: Any
    ) -> None:
        """Call a one-item service for each item as the requesting moderator, and report what it did."""
        outcome = services.items_each(
            item_ids=item_ids, apply=lambda item_id: service(item_id=item_id, actor=request.user, **kwargs)
        )
        self._report(request, outcome, past=past)

    @admin.action(description="Assign selected items to me", permissions=["decide"])
    def assign_to_me(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> None:
        item_ids = self._selected_ids(request, queryset)
        if not self._too_many(request, item_ids):
            self._apply(request, item_ids, services.item_assign, past="assigned to you")

    @admin.action(description="Release selected items assigned to me", permissions=["decide"])
    def release(self, request: HttpRequest, queryset: models.QuerySet[CaseItem]) -> None:
        item_ids = self._selected_ids(request, queryset)
        if not self._too_many(request, item_ids):
            self._apply(request, item_ids, services.item_release, past="released")

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
                if len(item_ids) > services.background_decision_min():
                    return start_in_background(self, request, decision, form, item_ids)
                self._report(request, form.apply(item_ids=item_ids, actor=request.user), past=decision.past)
                return None
        else:
            form = decision.form_class(prefix=decision.name)
        listed = (
            CaseItem.objects.filter(pk__in=item_ids)
            .select_related("brand", "listing__seller", "assigned_to")
            .in_queue_order()[:ITEMS_LISTED]
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
