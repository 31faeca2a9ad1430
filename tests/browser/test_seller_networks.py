"""A moderation lead acts on a whole seller network in a real browser: the network page draws the ring, the
action on a network this large waits for a second lead, who approves it on the same page; the one delisting
job then removes every live listing of the network with a real Celery worker, its page showing the progress."""

import re

import pytest
from playwright.sync_api import expect

from investigations.models import NetworkAction
from listings.choices import ListingStatus, SellerStatus
from listings.models import Listing, Seller
from tests import factories
from tests.investigations.networks.test_networks import share
from tests.workers import running_worker


@pytest.fixture
def ring(live_server):
    marketplace = factories.MarketplaceFactory(name="ShopNow", slug="shopnow", hosts=["shopnow.example"])
    sellers = [factories.SellerFactory(marketplace=marketplace, name=f"Ring seller {n}") for n in range(5)]
    share("phone", "+49 30 5550100", *sellers[:3])
    share("payment_account", "DE89 3704 0044 0532 0130 00", *sellers[2:])
    for seller in sellers:
        factories.ListingFactory.create_batch(2, marketplace=marketplace, seller=seller)
    for username in ("first-lead", "second-lead"):
        factories.UserFactory(username=username, is_staff=True, is_superuser=True)
    return sellers


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_lead_suspends_a_network_that_a_second_lead_approves(login, live_server, ring, page):
    errors: list[str] = []  # a CSP violation would show here; the missing favicon is not ours
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")
            and errors.append(message.text)
        ),
    )
    network_url = f"{live_server.url}/admin/investigations/networks/{ring[0].pk}/"

    login("first-lead")
    page.goto(f"{live_server.url}/admin/listings/seller/{ring[0].pk}/change/")
    page.get_by_role("link", name="Seller network").click()
    expect(page).to_have_url(network_url)
    expect(page.locator("#network-summary")).to_contain_text("5 sellers")
    expect(page.get_by_role("img", name=re.compile("Drawing"))).to_be_visible()
    expect(page.locator("#network-links")).to_contain_text("Phone number")
    expect(page.locator("#second-approval-note")).to_be_visible()
    page.get_by_label("Suspend every account and delist every live listing").check()
    page.get_by_label("Reason:").fill("A ring of counterfeit sellers sharing a phone and an account.")
    page.get_by_role("button", name="Ask for a second approval").click()
    expect(page.get_by_text("waits for a second moderation lead")).to_be_visible()
    expect(page.get_by_role("button", name="Approve and execute")).to_have_count(0)  # not for the one who asked

    page.context.clear_cookies()
    login("second-lead")
    page.goto(network_url)
    with running_worker():
        page.get_by_role("button", name="Approve and execute").click()
        expect(page).to_have_url(re.compile(r"/admin/listings/delistjob/\d+/change/$"))
        panel = page.get_by_role("region", name="Progress")
        expect(panel.get_by_role("row", name="Status")).to_contain_text("Completed", timeout=30_000)
        expect(page.get_by_label("10 of 10 targets processed (100%)")).to_be_visible(timeout=10_000)

    action = NetworkAction.objects.get()
    assert action.status == "executed" and action.approved_by.username == "second-lead"
    assert not Listing.objects.filter(status=ListingStatus.ACTIVE).exists()
    assert set(Seller.objects.values_list("status", flat=True)) == {SellerStatus.SUSPENDED}
    assert errors == []
