"""Fixtures of the detection tests: an upheld removal in the brand's bank, and listings to match."""

import random
from datetime import timedelta

import pytest

from cases import services as case_services
from cases.models import CaseItem
from detection.services.hashes import listing_image_hashes_replace
from listings.models import Listing
from tests import factories
from tests.integrations.conftest import api, staff_user, token  # noqa: F401 (fixtures of the platform tests)

ORIGINAL_TITLE = "Acme Leather Classic Tote Bag Brown Genuine"
ORIGINAL_HASH = f"{random.Random(17).getrandbits(256):064x}"


def flip(hex_hash: str, bits: int, seed: int = 1) -> str:
    """The hash with `bits` distinct bits flipped."""
    value = int(hex_hash, 16)
    for bit in random.Random(seed).sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


@pytest.fixture
def seller(marketplace):
    return factories.SellerFactory(marketplace=marketplace, external_id="S-BAD", name="Cheap Bags Outlet")


@pytest.fixture
def removed_item(file_case, marketplace, seller, moderator) -> CaseItem:
    """An item whose removal became final (accepted, counter-notice window passed), with a titled listing
    of `seller` and one image hash."""
    item = file_case().items.get()
    Listing.objects.filter(pk=item.listing_id).update(
        title=ORIGINAL_TITLE, seller=seller, price="39.00", currency="EUR", external_id="L-OLD"
    )
    listing_image_hashes_replace(hashes_by_listing={item.listing_id: [ORIGINAL_HASH]})
    case_services.item_accept(item_id=item.pk, actor=moderator)
    item.refresh_from_db()
    case_services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + timedelta(seconds=1))
    item.refresh_from_db()
    return item


@pytest.fixture
def new_listing(marketplace):
    """new_listing(title, seller=None, hashes=()) → an active listing of the marketplace."""
    counter = iter(range(1, 10_000))

    def make(title: str, seller=None, hashes=()) -> Listing:
        n = next(counter)
        listing = factories.ListingFactory(
            marketplace=marketplace,
            url=f"https://shopnow.example/item/NEW{n}",
            external_id=f"NEW{n}",
            title=title,
            seller=seller,
            price="35.00",
            currency="EUR",
        )
        if hashes:
            listing_image_hashes_replace(hashes_by_listing={listing.pk: list(hashes)})
        return listing

    return make
