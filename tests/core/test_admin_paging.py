"""Changelists over large tables: counts are estimated above a bound (and say "about"), and pages stop at
a fixed depth (core.admin.mixins.EstimatedCountPaginator). The bounds are lowered here so that a handful of
rows crosses them."""

import pytest
from django.core.cache import cache
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.models import Brand
from core.admin.mixins import EstimatedCountPaginator
from core.audit.services import audit_record
from listings.admin.marketplace import ListingAdmin
from listings.choices import ListingStatus
from listings.models import Listing
from tests import factories

pytestmark = pytest.mark.django_db

LISTINGS = reverse("admin:listings_listing_changelist")


@pytest.fixture
def seven_listings():
    marketplace = factories.MarketplaceFactory()
    factories.ListingFactory.create_batch(7, marketplace=marketplace, seller__marketplace=marketplace)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE listings_listing")


def counts(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]


def test_a_filtered_list_within_the_bound_is_counted_exactly(superuser_client, seven_listings):
    with CaptureQueriesContext(connection) as captured:
        response = superuser_client.get(LISTINGS, {"status": ListingStatus.ACTIVE})
    paginator = response.context["cl"].paginator
    assert (paginator.count, paginator.is_estimate) == (7, False)
    assert "7 listings" in response.content.decode() and "about" not in response.content.decode()
    # The count reads at most exact_below + 1 rows.
    assert len(counts(captured)) == 1 and "LIMIT 10001" in counts(captured)[0]


def test_a_filtered_list_past_the_bound_shows_the_planners_estimate(superuser_client, seven_listings, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 3)
    response = superuser_client.get(LISTINGS, {"status": ListingStatus.ACTIVE})
    paginator = response.context["cl"].paginator
    assert paginator.is_estimate
    assert paginator.count >= 4  # at least the bounded count; the planner's figure when larger
    assert f"about {paginator.count:,} listings" in response.content.decode()


def test_an_unfiltered_large_table_is_estimated_without_counting(superuser_client, seven_listings, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 3)
    with CaptureQueriesContext(connection) as captured:
        response = superuser_client.get(LISTINGS)
    assert response.context["cl"].paginator.is_estimate
    assert response.context["cl"].result_count == 7  # reltuples after ANALYZE
    assert not counts(captured)
    assert "about 7 listings" in response.content.decode()


def test_pages_stop_at_max_rows():
    factories.ListingFactory.create_batch(7)
    paginator = EstimatedCountPaginator(Listing.objects.order_by("pk"), 2)
    paginator.max_rows = 4
    assert (paginator.count, paginator.num_pages, paginator.capped) == (7, 2, True)
    assert [row.pk for row in paginator.page(2).object_list] == list(
        Listing.objects.order_by("pk").values_list("pk", flat=True)[2:4]
    )
    with pytest.raises(EmptyPage):
        paginator.page(3)


def test_a_list_that_fits_is_not_capped():
    factories.ListingFactory.create_batch(4)
    paginator = EstimatedCountPaginator(Listing.objects.order_by("pk"), 2)
    paginator.max_rows = 4
    assert (paginator.num_pages, paginator.capped) == (2, False)


def test_the_changelist_says_where_pages_stop_and_refuses_deeper_ones(superuser_client, monkeypatch):
    factories.ListingFactory.create_batch(7)
    monkeypatch.setattr(ListingAdmin, "list_per_page", 2)
    monkeypatch.setattr(EstimatedCountPaginator, "max_rows", 4)
    page = superuser_client.get(LISTINGS, {"p": 2})
    assert page.status_code == 200
    assert "Pages go up to the first 4 rows in this order" in page.content.decode()
    deeper = superuser_client.get(LISTINGS, {"p": 3})
    assert deeper.status_code == 302 and "e=1" in deeper["Location"]


# --- the audit trail's search ---------------------------------------------------------------------


AUDIT = reverse("admin:audit_auditevent_changelist")


def test_audit_search_by_number_finds_the_target_under_every_type(superuser_client, moderator):
    listing = factories.ListingFactory()
    assert not Brand.objects.filter(pk=listing.pk).exists()
    brand = factories.BrandFactory(pk=listing.pk)  # another type of object with the same id
    audit_record(action="listing.remove", target=listing, actor=moderator)
    audit_record(action="brand.update", target=brand, actor=moderator)
    audit_record(action="listing.remove", target=factories.ListingFactory(), actor=moderator)

    found = superuser_client.get(AUDIT, {"q": str(listing.pk)}).context["cl"].result_list
    assert sorted((event.target_type.model, event.target_id) for event in found) == [
        ("brand", listing.pk),
        ("listing", listing.pk),
    ]


def test_audit_search_by_text_picks_actions_by_name(superuser_client, moderator):
    cache.clear()
    audit_record(action="listing.remove", target=factories.ListingFactory(), actor=moderator, reason="remove me")
    audit_record(action="case.submit", target=factories.ListingFactory(), actor=moderator, reason="submit")
    found = superuser_client.get(AUDIT, {"q": "REMOVE"}).context["cl"].result_list
    assert [event.action for event in found] == ["listing.remove"]
    # Reasons are not searched (no index could serve it at this table's size).
    assert list(superuser_client.get(AUDIT, {"q": "submit me"}).context["cl"].result_list) == []
