"""Tenancy cases of every platform endpoint, run by tests/platform_harness.py, and of every
marketplace-owned model's scope (`for_marketplace`).

Item actions act on a fresh accepted item per call; the bulk writes send the victim marketplace's own
external ids and URLs, so another marketplace's token is shown to write nothing of the victim's.
"""

from datetime import timedelta

from django.utils import timezone

from cases import services as case_services
from cases.models import Appeal, Case, CaseItem, CounterNotice, StatementOfReasons
from integrations import services
from integrations.models import ServiceToken, WebhookEndpoint, WebhookEvent
from investigations.models import TestPurchase
from listings.identifiers import identifier_digest
from listings.models import Listing, Marketplace, Seller, SellerIdentifier, SellerPenalty, Strike
from tests.platform_harness import MarketplaceScopeCase, MarketplaceWorld, PlatformTenancyCase
from tests.tenancy_cases.integrations import PUBLIC_URL


def _item(world: MarketplaceWorld) -> dict:
    return {"item_id": world.accepted_item().pk}


def _case(world: MarketplaceWorld) -> dict:
    return {"case_id": world.accepted_item().case_id}


def _seller_rows(world: MarketplaceWorld) -> dict:
    return {"sellers": [{"external_id": world.seller.external_id, "name": "Renamed by a bulk upsert"}]}


def _listing_rows(world: MarketplaceWorld) -> dict:
    listing = world.items[0].listing
    return {"listings": [{"external_id": listing.external_id, "url": listing.url, "title": "Renamed"}]}


def _test_purchase(world: MarketplaceWorld) -> dict:
    return {"purchase_id": _purchase_row(world).pk}


def _purchase_row(world: MarketplaceWorld) -> TestPurchase:
    """A fresh, unconfirmed test purchase of the world's brand on one of its reported listings."""
    item = world.accepted_item()
    return TestPurchase.objects.create(
        brand=world.brand,
        listing=item.listing,
        order_id=f"ORDER-{item.pk}",
        purchased_on=item.submitted_at.date(),
        recorded_by=world.reporter,
    )


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
    PlatformTenancyCase("platform-api:test-purchase-list"),
    PlatformTenancyCase(
        "platform-api:test-purchase-order",
        method="post",
        make=_test_purchase,
        body=lambda world: {"found": True},
    ),
]


def _counter_notice(world: MarketplaceWorld) -> CounterNotice:
    item = world.accepted_item()
    case_services.item_counter_notice(item_id=item.pk, reason="genuine", explanation="Invoice.", received_at=None)
    return CounterNotice.objects.get(item=item)


def _appeal(world: MarketplaceWorld) -> Appeal:
    item = world.accepted_item()
    case_services.item_appeal(item_id=item.pk, appellant="seller", grounds="The goods are genuine.")
    return Appeal.objects.get(item=item)


def _strike(world: MarketplaceWorld) -> Strike:
    now = timezone.now()
    return Strike.objects.create(
        seller=world.seller, reason_code="counterfeit", issued_at=now, expires_at=now + timedelta(days=1)
    )


SCOPE_CASES = [
    MarketplaceScopeCase(Marketplace, lambda world: world.marketplace),
    MarketplaceScopeCase(Seller, lambda world: world.seller),
    MarketplaceScopeCase(
        SellerIdentifier,
        lambda world: SellerIdentifier.objects.create(
            seller=world.seller, kind="phone", digest=identifier_digest("phone", "+44 20 7946 0000")
        ),
    ),
    MarketplaceScopeCase(Listing, lambda world: world.accepted_item().listing),
    MarketplaceScopeCase(Strike, _strike),
    MarketplaceScopeCase(
        SellerPenalty, lambda world: SellerPenalty.objects.create(seller=world.seller, action="warn", active_strikes=1)
    ),
    # A case with two items on the marketplace: found once, not once per item.
    MarketplaceScopeCase(Case, lambda world: world.accepted_items(2)[0].case),
    MarketplaceScopeCase(CaseItem, lambda world: world.accepted_item()),
    MarketplaceScopeCase(StatementOfReasons, lambda world: world.accepted_item().statements.get()),
    MarketplaceScopeCase(CounterNotice, _counter_notice),
    MarketplaceScopeCase(Appeal, _appeal),
    MarketplaceScopeCase(
        ServiceToken,
        lambda world: services.service_token_create(marketplace=world.marketplace, name="sync", actor=None)[0],
    ),
    MarketplaceScopeCase(
        WebhookEndpoint,
        lambda world: services.webhook_endpoint_create(marketplace=world.marketplace, url=PUBLIC_URL, actor=None),
    ),
    MarketplaceScopeCase(TestPurchase, _purchase_row),
    MarketplaceScopeCase(WebhookEvent, lambda world: WebhookEvent.objects.filter(item_id=world.items[0].pk).first()),
]
