"""The demo's seller network: six sellers linked by a phone, a payment account, an address and an image,
large enough to need a second lead, two of them reported by Acme; loading the demo again adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from core.accounts.models import User
from investigations.selectors_networks import IMAGE, RELISTING, brand_seller_network, seller_network
from investigations.services.networks import needs_second_approval
from listings.models import Seller, SellerIdentifier


@pytest.mark.django_db
def test_the_demo_ring_is_one_network_of_six_that_acme_partly_sees():
    call_command("seed_demo", stdout=StringIO())
    stored = SellerIdentifier.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert SellerIdentifier.objects.count() == stored

    lucky = Seller.objects.get(external_id="ring-lucky-star")
    network = seller_network(lucky.pk)
    # The ring, and whoever the demo's re-listings link to its reported sellers.
    assert len(network) >= 6 and not network.truncated
    reasons = {reason for edge in network.edges for reason in edge.reasons}
    assert {"phone", "payment_account", "address", IMAGE, RELISTING} <= reasons
    assert needs_second_approval(sellers=len(network), live_listings=network.live_listings, truncated=False)

    owner = User.objects.get(username="owner")
    known = list(Seller.objects.filter(identifiers__kind="address").exclude(external_id__startswith="ring-"))
    view = brand_seller_network(user=owner, brand=owner.brand_memberships.get().brand, seller_id=known[0].pk)
    assert known[1] in [row.seller for row in view.linked]
