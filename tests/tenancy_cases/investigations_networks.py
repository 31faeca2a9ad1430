"""Tenancy cases of the brand's seller network pages: every role reads them; another brand's owner gets 404,
also for a seller it has not reported itself (the guessed id under its own brand)."""

from itertools import count
from typing import Any

from cases import services
from cases.models import CaseItem
from listings.models import Listing
from tests import factories
from tests.harness import TenancyCase

_numbers = count(1)


def _reported_seller(brand, user) -> dict[str, Any]:
    """A case of the brand reporting a listing of a seller linked to another seller by a shared phone."""
    marketplace = factories.MarketplaceFactory(slug="network-market", hosts=["network-market.example"])
    n = next(_numbers)
    case = services.case_submit(
        request=factories.filing_request(
            brand=brand,
            actor=user,
            rights=[factories.IPRightFactory(brand=brand)],
            listing_urls=[f"https://network-market.example/item/NW{n}"],
            signed_name="Olivia Owner",
        )
    )
    seller = factories.SellerFactory(marketplace=marketplace, name=f"Networked {n}")
    Listing.objects.filter(pk=case.items.get().listing_id).update(seller=seller)
    return {"seller_id": seller.pk}


CASES = [
    TenancyCase("networks:reported_seller_list", model=CaseItem),
    TenancyCase("networks:seller_network", model=CaseItem, make=_reported_seller),
]
