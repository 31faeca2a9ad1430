"""The brand's side of seller networks, under /b/<brand_slug>/networks/ (issue 19).

A brand sees a network only as far as its own notices reach: the sellers its items concern (most reported
first), and for one of them, the other sellers of its network that the brand's items also concern
(`selectors_networks.brand_seller_network`). Never an identifier, a reason for a link, or a seller the
brand has not reported. A seller none of the brand's items concern answers 404, like any row of another
brand. Any member may read these pages (the VIEW capability)."""

from typing import Any

from django.http import Http404
from django.views.generic import TemplateView

from brands.access import BrandAccessMixin
from cases.models import CaseItem
from investigations import selectors_networks as selectors
from listings.models import Seller


class ReportedSellerListView(BrandAccessMixin, TemplateView):
    model = CaseItem  # what the page reads of the brand: its own items' sellers
    template_name = "investigations/reported_seller_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            sellers=selectors.brand_reported_sellers(user=self.request.user, brand=self.brand),
            shown=selectors.BRAND_SELLERS_SHOWN,
        )
        return context


class SellerNetworkView(BrandAccessMixin, TemplateView):
    model = CaseItem
    template_name = "investigations/seller_network.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            view = selectors.brand_seller_network(
                user=self.request.user, brand=self.brand, seller_id=self.kwargs["seller_id"]
            )
        except Seller.DoesNotExist:
            raise Http404("No seller you have reported.") from None
        context.update(network=view)
        return context
