"""Filing pages of the brand portal: the filing form, the dry-run preview, the progress of large
filings and the CSV template.

The flow: the form (step 1) becomes a `CaseDraft` whose listing rows are checked (in the request, or
in Celery when there are many; the progress page polls until done); the preview lists every row with
its problems; "File N listings" files the valid rows in one transaction. The views only route: the
work is in `cases.importing` and `cases.services`.
"""

import uuid
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views import View
from django.views.generic import FormView, TemplateView
from django_htmx.http import HttpResponseClientRedirect

from brands.access import BrandAccessMixin
from brands.choices import Capability, Lane
from brands.models import IPRight
from brands.selectors import brand_lane
from cases import importing
from cases.choices import Channel, EvidenceKind, ReasonCode
from cases.forms import DECLARATION_FIELDS, CaseFilingForm
from cases.models import CaseDraft
from cases.services import FilingRequest, evidence_staged
from core.csvexport import csv_response
from listings.models import Marketplace

State = CaseDraft.State
#: Up to this many rows, the preview's full table is shown unfolded.
OPEN_TABLE_ROWS = 50


class CaseDraftAccessMixin(BrandAccessMixin):
    """Filing needs the FILE capability; a draft is found through the brand scope and shown only to its
    author, whose typed name signs its declarations."""

    model = CaseDraft
    capability = Capability.FILE

    def find_draft(self, draft_id: Any) -> CaseDraft:
        try:
            draft_id = uuid.UUID(str(draft_id))
        except ValueError as exc:
            raise Http404("No such draft.") from exc
        draft = get_object_or_404(CaseDraft.objects.for_user(self.request.user, brand=self.brand), pk=draft_id)
        if draft.created_by_id != self.request.user.pk:
            raise PermissionDenied("Only the person who signed this draft can see or file it.")
        return draft

    def next_url(self, draft: CaseDraft) -> str:
        """Where a draft in its current state is shown: its progress, its preview or the filed case."""
        slug = self.brand.slug
        if draft.state == State.FILED:
            return reverse("cases:case_detail", kwargs={"brand_slug": slug, "pk": draft.case_id})
        if draft.state in {State.CHECKING, State.FILING}:
            return reverse("cases:case_draft_progress", kwargs={"brand_slug": slug, "draft_id": draft.pk})
        return reverse("cases:case_draft", kwargs={"brand_slug": slug, "draft_id": draft.pk})


class CaseCreateView(CaseDraftAccessMixin, FormView):
    """Step 1. `?draft=<id>` (or the form's `draft` field) reopens a draft to fix it."""

    template_name = "cases/filing/form.html"
    form_class = CaseFilingForm

    @cached_property
    def revising(self) -> CaseDraft | None:
        draft_id = self.request.POST.get("draft") or self.request.GET.get("draft")
        return self.find_draft(draft_id) if draft_id else None

    @cached_property
    def lane(self) -> str:
        return brand_lane(self.brand)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.revising is not None and self.revising.state in {State.FILING, State.FILED}:
            messages.info(request, "This draft is already filed; there is nothing left to fix.")
            return redirect(self.next_url(self.revising))
        return super().get(request, *args, **kwargs)

    @cached_property
    def revised_request(self) -> FilingRequest | None:
        return importing.draft_request(self.revising) if self.revising is not None else None

    def get_initial(self) -> dict[str, Any]:
        request = self.revised_request
        if request is None:
            return {"idempotency_key": uuid.uuid4(), "evidence_kind": EvidenceKind.SCREENSHOT}
        return {
            "idempotency_key": request.idempotency_key,
            "rights": list(request.right_ids),
            "reason_code": request.reason_code,
            "explanation": request.explanation,
            "evidence_kind": request.evidence_kind,
            "listing_urls": self.revising.payload.get("pasted", ""),
            "signed_name": request.signed_name,
            **dict.fromkeys(DECLARATION_FIELDS, True),
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "rights": IPRight.objects.for_user(self.request.user, brand=self.brand).usable(),
            "lane": self.lane,
            "brand_name": self.brand.name,
            "kept_evidence": list(self.revised_request.evidence) if self.revised_request else [],
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(revising=self.revising, lane_label=Lane(self.lane).label)
        return context

    def form_valid(self, form: CaseFilingForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            with evidence_staged(data["evidence"], keep=True) as evidence:
                request = form.filing_request(
                    brand_id=self.brand.pk,
                    actor_id=self.request.user.pk,
                    ip_address=self.request.META.get("REMOTE_ADDR"),
                    evidence=evidence,
                )
                draft = importing.draft_create(
                    request=request,
                    rows=data["rows"],
                    pasted=data["listing_urls"] if data["channel"] == Channel.WEB else "",
                    replaces=self.revising,
                )
        except importing.StaleDraft as exc:
            messages.error(self.request, str(exc))
            if exc.case is not None:
                return redirect("cases:case_detail", brand_slug=self.brand.slug, pk=exc.case.pk)
            return redirect("cases:case_create", brand_slug=self.brand.slug)
        return redirect(self.next_url(draft))


class CaseDraftView(CaseDraftAccessMixin, TemplateView):
    """Step 2: the dry-run preview, every row with its problems, and the button that files the valid ones."""

    template_name = "cases/filing/preview.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.draft = self.find_draft(kwargs["draft_id"])
        if self.draft.state not in {State.READY, State.FAILED}:
            return redirect(self.next_url(self.draft))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        draft, filing = self.draft, importing.draft_request(self.draft)
        preview = importing.draft_preview(draft)
        expired = importing.draft_is_expired(draft)
        return super().get_context_data(
            draft=draft,
            preview=preview,
            valid_count=len(preview.valid),
            expired=expired,
            can_file=draft.state == State.READY and not expired and bool(preview.valid),
            open_table=len(preview.rows) <= OPEN_TABLE_ROWS,
            filing=filing,
            rights=IPRight.objects.for_brand(self.brand).filter(pk__in=filing.right_ids),
            reason=ReasonCode(filing.reason_code).label,
            evidence_kind=EvidenceKind(filing.evidence_kind).label,
            **kwargs,
        )


class CaseDraftFileView(CaseDraftAccessMixin, View):
    """Step 3: file the preview's valid rows (a second submit of the same draft files nothing more)."""

    def post(self, request: HttpRequest, brand_slug: str, draft_id: uuid.UUID) -> HttpResponse:
        draft = self.find_draft(draft_id)
        try:
            draft = importing.draft_submit(draft_id=draft.pk)
        except importing.StaleDraft as exc:
            messages.error(request, str(exc))
            return redirect("cases:case_draft", brand_slug=self.brand.slug, draft_id=draft.pk)
        if draft.state == State.FILED:
            messages.success(request, f"Case #{draft.case_id} filed.")
        elif draft.state == State.FAILED:
            messages.error(request, "The case could not be filed; nothing was saved.")
        return redirect(self.next_url(draft))


#: (polls, delay in ms): how soon the progress page asks again after its n-th poll. A check or filing of
#: 1,000 rows takes the worker about half a second, so the first polls come quickly (a result is seen within
#: ~0.1 s of being ready), and a long run falls back to one request a second (docs/performance.md).
POLL_SCHEDULE = ((20, 100), (40, 250))
POLL_SLOW_MS = 1000


def poll_delay_ms(polls: int) -> int:
    """The delay before the next poll, after `polls` polls."""
    return next((delay for limit, delay in POLL_SCHEDULE if polls < limit), POLL_SLOW_MS)


class CaseDraftProgressView(CaseDraftAccessMixin, TemplateView):
    """The progress of a draft checked or filed in Celery; htmx polls it (quickly at first: `poll_delay_ms`)
    and is redirected when done. Each answer schedules the next poll and carries its number."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.draft = self.find_draft(kwargs["draft_id"])
        if self.draft.state not in {State.CHECKING, State.FILING}:
            url = self.next_url(self.draft)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        return super().get(request, *args, **kwargs)

    def get_template_names(self) -> list[str]:
        return ["cases/filing/_progress.html" if self.request.htmx else "cases/filing/progress.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        polls = self.request.GET.get("poll", "")
        polls = min(int(polls), 10_000) if polls.isdigit() else 0
        return super().get_context_data(
            draft=self.draft, next_poll=polls + 1, poll_delay_ms=poll_delay_ms(polls), **kwargs
        )


class CsvTemplateView(CaseDraftAccessMixin, View):
    """The CSV template: the header and two example rows on the portal's own marketplaces."""

    def get(self, request: HttpRequest, brand_slug: str) -> HttpResponse:
        hosts = [hosts[0] for hosts in Marketplace.objects.filter(is_active=True).values_list("hosts", flat=True)[:2]]
        first, second = (hosts + ["marketplace.example"] * 2)[:2]
        rows = [
            (f"https://{first}/item/123456", "Counterfeit logo on the strap; price a tenth of retail"),
            (f"https://{second}/item/654321", ""),
        ]
        return csv_response("case-listings-template.csv", importing.CSV_COLUMNS, rows)


urlpatterns = [
    path("cases/new/", CaseCreateView.as_view(), name="case_create"),
    path("cases/new/template.csv", CsvTemplateView.as_view(), name="csv_template"),
    path("cases/new/<uuid:draft_id>/", CaseDraftView.as_view(), name="case_draft"),
    path("cases/new/<uuid:draft_id>/file/", CaseDraftFileView.as_view(), name="case_draft_file"),
    path("cases/new/<uuid:draft_id>/progress/", CaseDraftProgressView.as_view(), name="case_draft_progress"),
]
