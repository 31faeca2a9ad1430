"""cases.bulk.generate_case_items: the benchmarks' synthetic queue (bench_pages, bench_admin)."""

import pytest

from cases.bulk import generate_case_items
from cases.models import Case, CaseItem
from tests import factories

pytestmark = pytest.mark.django_db


def test_items_go_to_listings_not_yet_reported_in_cases_of_per_case_items(brand, reporter):
    shop, other = factories.MarketplaceFactory(), factories.MarketplaceFactory()
    listings = factories.ListingFactory.create_batch(6, marketplace=shop)
    factories.ListingFactory.create_batch(2, marketplace=other)

    assert (
        generate_case_items(brand_id=brand.pk, user_id=reporter.pk, count=5, marketplace_ids=[shop.pk], per_case=2) == 5
    )
    items = CaseItem.objects.filter(brand=brand)
    assert {item.listing.marketplace_id for item in items} == {shop.pk}
    assert items.count() == 5
    assert Case.objects.filter(brand=brand).count() == 3  # 2 + 2 + 1

    # A second run takes the listings left over and never reports one twice.
    assert generate_case_items(brand_id=brand.pk, user_id=reporter.pk, count=5, marketplace_ids=[shop.pk]) == 1
    assert sorted(items.values_list("listing_id", flat=True)) == sorted(listing.pk for listing in listings)
