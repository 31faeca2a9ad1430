"""Pages of the investigations app: the brand's test purchases, under /b/<brand_slug>/test-purchases/.

- the list (filters by verdict and order answer, a search, pages, an empty state);
- recording a purchase (the listing, the order, the dates, files);
- a purchase's page: the listing as it was, the order's confirmation, the verdict, the files, the chain of
  custody with its verification ("chain complete: N links verified" or the broken link), and the forms to
  add an event (with files) and to record the verdict;
- filing a notice "counterfeit confirmed by test purchase" from a counterfeit verdict, with the purchase
  attached to every item (the seller's other live listings may be reported with it), or attaching it to a
  listing already reported (on its listing or its seller's);
- file downloads, inside the tenant scope, always as attachments.

Every view declares `model` (the tenancy meta-test requires a case for each). Purchases are read through
`TestPurchase.objects.for_user(user, brand=...)`: another brand's id answers 404. Reading needs the VIEW
capability; writing needs FILE (owners and reporters). A service's refusal lands on the form.
"""

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from brands.access import BrandAccessMixin
from brands.choices import Capability
from brands.models import IPRight
from brands.views import DocumentDownloadView
from cases.models import CaseItem
from core.errors import DomainError
from core.pagination import CappedPaginator
from core.views import ServiceFormMixin
from investigations import selectors
from investigations.choices import VERDICT_OPEN, Verdict
from investigations.filtersets import TestPurchaseFilterSet
from investigations.forms import CustodyEventForm, NoticeForm, TestPurchaseForm, VerdictForm
from investigations.models import TestPurchase, TestPurchaseFile
from investigations.services import purchases as service
from listings.models import Listing


class TestPurchaseListView(BrandAccessMixin, ListView):
    __test__ = False

    model = TestPurchase
    template_name = "investigations/purchase_list.html"
    context_object_name = "purchases"
    paginate_by = 25
    paginator_class = CappedPaginator

    def get_queryset(self) -> Any:
        self.filterset = TestPurchaseFilterSet(
            self.request.GET, queryset=selectors.brand_purchases(user=self.request.user, brand=self.brand)
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            filterset=self.filterset,
            filtered=any(value for key, value in self.request.GET.items() if key != "page"),
            can_file=self.membership.can(Capability.FILE),
            **kwargs,
        )


class PurchaseMixin:
    """Views about one test purchase of the brand in the URL."""

    model = TestPurchase

    def get_purchase(self) -> TestPurchase:
        if not hasattr(self, "purchase"):
            self.purchase = get_object_or_404(
                TestPurchase.objects.for_user(self.request.user, brand=self.brand).select_related(
                    "listing__marketplace", "seller", "recorded_by"
                ),
                pk=self.kwargs["pk"],
            )
        return self.purchase

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(purchase=self.get_purchase(), **kwargs)

    def back(self) -> HttpResponse:
        return redirect("investigations:purchase_detail", brand_slug=self.brand.slug, pk=self.get_purchase().pk)


def verdict_form(purchase: TestPurchase, **kwargs: Any) -> VerdictForm:
    initial = {
        "authenticator_name": purchase.authenticator_name,
        "authenticator_organisation": purchase.authenticator_organisation,
    }
    return VerdictForm(initial=initial, **kwargs)


class TestPurchaseDetailView(PurchaseMixin, BrandAccessMixin, TemplateView):
    __test__ = False

    template_name = "investigations/purchase_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        purchase = self.get_purchase()
        can_file = self.membership.can(Capability.FILE)
        return super().get_context_data(
            files=purchase.files.select_related("uploaded_by").order_by("pk"),
            timeline=selectors.purchase_timeline(purchase),
            custody=selectors.custody_verify(purchase),
            attachments=purchase.attachments.select_related("item__listing").order_by("pk"),
            can_file=can_file,
            verdict_open=purchase.verdict in VERDICT_OPEN,
            event_form=CustodyEventForm() if can_file else None,
            verdict_form=verdict_form(purchase) if can_file else None,
            attachable=selectors.attachable_items(purchase)
            if can_file and purchase.verdict == Verdict.COUNTERFEIT
            else [],
            **kwargs,
        )


class TestPurchaseCreateView(BrandAccessMixin, ServiceFormMixin, FormView):
    __test__ = False

    model = TestPurchase
    capability = Capability.FILE
    template_name = "investigations/form_page.html"
    form_class = TestPurchaseForm
    extra_context = {
        "heading": "Record a test purchase",
        "lead": (
            "The listing is copied as it shows now, with its seller. The marketplace confirms the order through its "
            "API; until it answers, the purchase shows the order as unconfirmed. Files are checked by their content, "
            "hashed (SHA-256) and kept private."
        ),
        "submit": "Record the purchase",
    }

    def perform(self, form: TestPurchaseForm) -> HttpResponse:
        purchase = service.purchase_record(brand=self.brand, actor=self.request.user, **form.service_data())
        messages.success(
            self.request,
            f"{purchase} was recorded. The marketplace is asked to confirm the order; until it answers, the order "
            "shows as unconfirmed.",
        )
        return redirect("investigations:purchase_detail", brand_slug=self.brand.slug, pk=purchase.pk)


class CustodyEventCreateView(PurchaseMixin, BrandAccessMixin, ServiceFormMixin, FormView):
    capability = Capability.FILE
    template_name = "investigations/form_page.html"
    form_class = CustodyEventForm
    extra_context = {
        "heading": "Add to the chain of custody",
        "lead": "A link cannot be changed or removed once added: check the note and the files first.",
        "submit": "Add to the chain",
    }

    def perform(self, form: CustodyEventForm) -> HttpResponse:
        event = service.custody_event_add(purchase=self.get_purchase(), actor=self.request.user, **form.cleaned_data)
        messages.success(
            self.request, f"“{event.get_event_type_display()}” was added to the chain as link {event.sequence}."
        )
        return self.back()


class VerdictView(PurchaseMixin, BrandAccessMixin, ServiceFormMixin, FormView):
    capability = Capability.FILE
    template_name = "investigations/form_page.html"
    form_class = VerdictForm
    extra_context = {
        "heading": "Record the verdict",
        "lead": "A genuine or counterfeit verdict is final; an inconclusive one may be followed by another.",
        "submit": "Record the verdict",
    }

    def get_form(self, form_class: Any = None) -> VerdictForm:
        return verdict_form(self.get_purchase(), **{k: v for k, v in self.get_form_kwargs().items() if k != "initial"})

    def perform(self, form: VerdictForm) -> HttpResponse:
        purchase = service.purchase_verdict(purchase=self.get_purchase(), actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, f"The verdict “{purchase.get_verdict_display()}” was recorded in the chain.")
        return self.back()


#: The seller's other live listings offered on the filing page, at most (the rest are filed the usual way).
SELLER_LISTINGS_SHOWN = 100


class NoticeCreateView(PurchaseMixin, BrandAccessMixin, ServiceFormMixin, FormView):
    """File a notice "counterfeit confirmed by test purchase" with the purchase attached to every item."""

    capability = Capability.FILE
    template_name = "investigations/form_page.html"
    form_class = NoticeForm
    extra_context = {
        "heading": "File a notice backed by this test purchase",
        "lead": (
            "The reason is “Counterfeit confirmed by test purchase”: the purchase is attached to every listing as "
            "its evidence, and a final removal weighs double in the seller's strikes."
        ),
        "submit": "File the notice",
    }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_unless_counterfeit() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse_unless_counterfeit() or super().post(request, *args, **kwargs)

    def refuse_unless_counterfeit(self) -> HttpResponse | None:
        purchase = self.get_purchase()
        if purchase.verdict == Verdict.COUNTERFEIT:
            return None
        messages.error(self.request, f"{purchase} has no counterfeit verdict: it cannot back a notice.")
        return self.back()

    def get_initial(self) -> dict[str, Any]:
        purchase = self.get_purchase()
        return {
            "idempotency_key": uuid.uuid4(),
            "listings": [purchase.listing_id],
            "explanation": (
                f"Test purchase #{purchase.pk} (order {purchase.order_id}) was examined by "
                f"{purchase.authenticator_name or 'an authenticator'}: counterfeit. {purchase.verdict_report}"
            ).strip()[:5000],
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        purchase = self.get_purchase()
        listings = Listing.objects.filter(pk=purchase.listing_id)
        if purchase.seller_id:
            seller_listings = Listing.objects.filter(seller_id=purchase.seller_id).live().order_by("-pk")
            ids = [purchase.listing_id, *seller_listings.values_list("pk", flat=True)[:SELLER_LISTINGS_SHOWN]]
            listings = Listing.objects.filter(pk__in=ids)
        return {
            **super().get_form_kwargs(),
            "rights": IPRight.objects.for_brand(self.brand).usable().order_by("name"),
            "listings": listings.order_by("pk"),
        }

    def perform(self, form: NoticeForm) -> HttpResponse:
        case = service.purchase_file_notice(
            purchase=self.get_purchase(),
            actor=self.request.user,
            ip_address=self.request.META.get("REMOTE_ADDR"),
            **form.service_data(),
        )
        messages.success(
            self.request, f"Filed as case #{case.pk}, with {self.get_purchase()} attached to each listing."
        )
        return redirect("cases:case_detail", brand_slug=self.brand.slug, pk=case.pk)


class AttachView(PurchaseMixin, BrandAccessMixin, View):
    """Attach a counterfeit verdict to one of the brand's reported listings (its evidence from now on)."""

    capability = Capability.FILE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        purchase = self.get_purchase()
        item = get_object_or_404(
            CaseItem.objects.for_user(request.user, brand=self.brand).select_related("listing"),
            pk=self.kwargs["item_id"],
        )
        try:
            service.purchase_attach(purchase=purchase, item=item, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return self.back()
        messages.success(request, f"{purchase} now backs case #{item.case_id}, {item.listing.url}.")
        return self.back()


class TestPurchaseFileDownloadView(DocumentDownloadView):
    __test__ = False

    model = TestPurchaseFile
