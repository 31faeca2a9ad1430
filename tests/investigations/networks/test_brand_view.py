"""The brand's view of seller networks: only sellers its own notices concern, never identifiers or reasons."""

import pytest
from django.urls import reverse

from brands.choices import Role
from listings.models import Listing
from tests import factories
from tests.investigations.networks.test_networks import share

pytestmark = pytest.mark.django_db


@pytest.fixture
def ring(marketplace):
    """Four sellers sharing a phone number."""
    sellers = [factories.SellerFactory(marketplace=marketplace, name=f"Ring seller {n}") for n in range(4)]
    share("phone", "+49 30 5550100", *sellers)
    return sellers


def report(file_case, seller, **overrides) -> None:
    case = file_case(**overrides)
    Listing.objects.filter(pk=case.items.get().listing_id).update(seller=seller)


def test_the_brand_sees_only_the_linked_sellers_it_reported(client, owner, ring, file_case):
    report(file_case, ring[0])
    report(file_case, ring[1])
    report(file_case, ring[1])
    client.force_login(owner)
    response = client.get(reverse("networks:seller_network", kwargs={"brand_slug": "acme", "seller_id": ring[0].pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "linked to <strong>1 other seller you have reported</strong>" in html
    assert "Ring seller 1" in html
    assert "Ring seller 2" not in html and "Ring seller 3" not in html  # linked, but not reported by this brand
    assert "Phone" not in html and "5550100" not in html


def test_another_brands_reports_do_not_count(client, ring, file_case, other_brand):
    report(file_case, ring[0])
    other_owner = factories.MembershipFactory(brand=other_brand, role=Role.OWNER).user
    other_right = factories.IPRightFactory(brand=other_brand)
    report(file_case, ring[1], brand=other_brand, actor=other_owner, rights=[other_right])
    client.force_login(other_owner)
    url = reverse("networks:seller_network", kwargs={"brand_slug": "globex", "seller_id": ring[1].pk})
    html = client.get(url).content.decode()
    assert "linked to no other seller you have reported" in html and "Ring seller 0" not in html
    # A seller only the other brand reported is not found.
    assert client.get(url.replace(str(ring[1].pk), str(ring[0].pk))).status_code == 404


def test_the_list_shows_the_brands_reported_sellers(client, owner, ring, file_case):
    report(file_case, ring[2])
    client.force_login(owner)
    response = client.get(reverse("networks:reported_seller_list", kwargs={"brand_slug": "acme"}))
    html = response.content.decode()
    assert "Ring seller 2" in html and "Ring seller 0" not in html
