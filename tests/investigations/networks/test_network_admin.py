"""The moderators' network page: who sees it, what it shows (never an identifier's value), and acting on a
network from it, with the second lead's approval for a large one."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.choices import Role
from investigations.models import NetworkAction, NetworkActionKind, NetworkActionStatus
from investigations.services import networks as services
from listings.choices import SellerStatus
from listings.models import DelistJob
from tests import factories
from tests.investigations.networks.test_networks import _ring, share

pytestmark = pytest.mark.django_db


def page(seller) -> str:
    return reverse("admin:investigations_seller_network", args=[seller.pk])


@pytest.fixture
def sellers(marketplace):
    return [factories.SellerFactory(marketplace=marketplace, name=f"Ring {n}") for n in range(6)]


def test_the_page_draws_the_network_and_names_only_the_kind_of_identifier(client, sellers, staff):
    a, b, c = sellers[:3]
    share("phone", "+49 30 5550100", a, b)
    share("payment_account", "DE89 3704 0044 0532 0130 00", b, c)
    client.force_login(staff("Moderators", "mod1"))
    response = client.get(page(a))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="network-node"') == 3 and html.count('stroke-opacity="0.8"') == 2  # nodes, links
    assert "Phone number" in html and "Payment account" in html
    for clear in ("5550100", "DE89", "3704"):
        assert clear not in html
    assert "<script" not in html.split('id="content-main"')[1]
    assert "Ring 2" in html
    assert "needs a second moderation lead" not in html  # three sellers: acted on at once


def test_the_sellers_admin_page_links_to_its_network(client, sellers, staff):
    client.force_login(staff("Moderators", "mod1"))
    response = client.get(reverse("admin:listings_seller_change", args=[sellers[0].pk]))
    assert page(sellers[0]) in response.content.decode()


def test_brand_users_and_staff_without_the_role_cannot_see_networks(client, sellers, member_of):
    client.force_login(member_of(Role.OWNER))
    assert client.get(page(sellers[0])).status_code == 302  # to the admin's login: not staff
    client.force_login(factories.UserFactory(username="clerk", is_staff=True))
    assert client.get(page(sellers[0])).status_code == 403
    assert client.post(page(sellers[0]), {"kind": "delist", "reason": "x", "token": "t"}).status_code == 403
    assert not NetworkAction.objects.exists()


def test_an_unknown_seller_is_not_found(client, staff):
    client.force_login(staff("Moderators", "mod1"))
    assert client.get(reverse("admin:investigations_seller_network", args=[999_999])).status_code == 404


def test_a_moderator_delists_a_small_network_and_lands_on_its_job(client, sellers, staff):
    ring = _ring(sellers, 3)
    client.force_login(staff("Moderators", "mod1"))
    response = client.post(page(ring[0]), {"kind": "delist", "reason": "Counterfeit ring", "token": "tok1"})
    job = DelistJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:listings_delistjob_change", args=[job.pk])
    assert len(job.selection["listing_ids"]) == 6
    # The same form posted twice: one action, one job.
    client.post(page(ring[0]), {"kind": "delist", "reason": "Counterfeit ring", "token": "tok1"})
    assert NetworkAction.objects.count() == 1 and DelistJob.objects.count() == 1


def test_a_refused_form_says_why(client, sellers, staff):
    client.force_login(staff("Moderators", "mod1"))
    response = client.post(page(sellers[0]), {"kind": "delist", "reason": "", "token": "tok"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not NetworkAction.objects.exists()


def test_a_large_network_is_approved_by_another_lead_on_the_page(client, sellers, staff):
    ring = _ring(sellers, 5)
    first, second = staff("Moderation leads", "lead1"), staff("Moderation leads", "lead2")
    client.force_login(first)
    response = client.post(page(ring[2]), {"kind": "suspend", "reason": "Big ring", "token": "tok2"}, follow=True)
    assert "waits for a second moderation lead" in response.content.decode()
    action = NetworkAction.objects.get()
    assert action.status == NetworkActionStatus.PENDING
    assert "Approve and execute" not in response.content.decode()  # not for the lead who asked
    refused = client.post(page(ring[2]), {"action_id": action.pk, "decision": "approve"}, follow=True)
    assert "different moderation lead" in refused.content.decode()

    client.force_login(second)
    assert "Approve and execute" in client.get(page(ring[2])).content.decode()
    response = client.post(page(ring[2]), {"action_id": action.pk, "decision": "approve"})
    action.refresh_from_db()
    assert action.status == NetworkActionStatus.EXECUTED and action.approved_by == second
    assert response["Location"] == reverse("admin:listings_delistjob_change", args=[action.delist_job_id])
    assert set(type(ring[0]).objects.filter(pk__in=action.seller_ids).values_list("status", flat=True)) == {
        SellerStatus.SUSPENDED
    }


def test_the_page_reads_a_bounded_number_of_queries_whatever_the_size(client, marketplace, staff):
    client.force_login(staff("Moderators", "mod1"))
    small = [factories.SellerFactory(marketplace=marketplace) for _ in range(3)]
    large = [factories.SellerFactory(marketplace=marketplace) for _ in range(12)]
    share("phone", "+49 30 1111111", *small)
    share("phone", "+49 30 2222222", *large)
    for seller in large:
        factories.ListingFactory(marketplace=marketplace, seller=seller)
    counts = []
    for ring in (small, large):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page(ring[0])).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_hashed_identifiers_of_a_seller_are_listed_in_the_admin(client, sellers, staff):
    share("phone", "+49 30 5550100", sellers[0])
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:listings_selleridentifier_changelist") + f"?seller__id__exact={sellers[0].pk}"
    response = client.get(url)
    assert response.status_code == 200
    assert "Phone number" in response.content.decode() and "5550100" not in response.content.decode()


def test_an_action_without_the_csrf_token_is_refused(sellers, staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff("Moderation leads", "lead1"))
    response = client.post(page(sellers[0]), {"kind": "delist", "reason": "No token", "token": "t"})
    assert response.status_code == 403
    assert not NetworkAction.objects.exists()


def test_moderators_may_read_the_hashed_identifiers(client, sellers, staff):
    share("phone", "+49 30 5550100", sellers[0])
    client.force_login(staff("Moderators", "mod1"))
    assert client.get(reverse("admin:listings_selleridentifier_changelist")).status_code == 200


def test_a_second_lead_approves_from_the_actions_list(client, sellers, staff):
    ring = _ring(sellers, 5)
    first, second = staff("Moderation leads", "lead1"), staff("Moderation leads", "lead2")
    action = services.network_action_request(
        seller_id=ring[0].pk, kind=NetworkActionKind.DELIST, actor=first, reason="Ring", idempotency_key="list"
    )
    changelist = reverse("admin:investigations_networkaction_changelist")
    client.force_login(first)
    response = client.post(changelist, {"action": "approve", "_selected_action": [action.pk]}, follow=True)
    assert "different moderation lead" in response.content.decode()
    client.force_login(second)
    response = client.post(changelist, {"action": "approve", "_selected_action": [action.pk]}, follow=True)
    assert "1 network action(s) approved and executed." in response.content.decode()
    action.refresh_from_db()
    assert action.status == NetworkActionStatus.EXECUTED and DelistJob.objects.count() == 1
