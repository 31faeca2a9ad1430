"""Tenancy cases of every platform endpoint, run by tests/platform_harness.py.

Item actions act on a fresh accepted item per call; the bulk writes send the victim marketplace's own
external ids and URLs, so another marketplace's token is shown to write nothing of the victim's.
"""

from tests.platform_harness import MarketplaceWorld, PlatformTenancyCase


def _item(world: MarketplaceWorld) -> dict:
    return {"item_id": world.accepted_item().pk}


def _case(world: MarketplaceWorld) -> dict:
    return {"case_id": world.accepted_item().case_id}


def _seller_rows(world: MarketplaceWorld) -> dict:
    return {"sellers": [{"external_id": world.seller.external_id, "name": "Renamed by a bulk upsert"}]}


def _listing_rows(world: MarketplaceWorld) -> dict:
    listing = world.items[0].listing
    return {"listings": [{"external_id": listing.external_id, "url": listing.url, "title": "Renamed"}]}


CASES = [
    PlatformTenancyCase("platform-api:seller-bulk", method="post", body=_seller_rows),
    PlatformTenancyCase("platform-api:listing-bulk", method="post", body=_listing_rows),
    PlatformTenancyCase(
        "platform-api:item-counter-notice",
        method="post",
        make=_item,
        body=lambda world: {"reason": "genuine", "explanation": "Invoice from the brand's distributor."},
        success=201,
    ),
    PlatformTenancyCase(
        "platform-api:item-appeal",
        method="post",
        make=_item,
        body=lambda world: {"grounds": "The goods are genuine."},
        success=201,
    ),
    PlatformTenancyCase("platform-api:decision-list"),
    PlatformTenancyCase("platform-api:dsa-statement-batch"),
    PlatformTenancyCase("platform-api:case-lumen", make=_case),
]
