"""An owner registers a webhook endpoint, sees its signing secret and sends a test event that a real
Celery worker delivers, signed, to a real HTTP server; the delivery log shows the answer."""

import json

import pytest
from playwright.sync_api import expect

from brands.choices import Role
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.signing import SIGNATURE_HEADER, verify_signature
from tests import factories
from tests.integrations.receiver import local_receiver
from tests.workers import running_worker, wait_until


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_owner_registers_an_endpoint_and_sends_a_test_event(login, live_server, settings):
    settings.MARKETSAFE = {
        **settings.MARKETSAFE,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
        "WEBHOOK_REQUIRE_HTTPS": False,
    }
    acme = factories.BrandFactory(name="Acme Leather", slug="acme")
    factories.MembershipFactory(brand=acme, user=factories.UserFactory(username="ada"), role=Role.OWNER)

    with local_receiver() as receiver, running_worker():
        page = login("ada")
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Webhooks").click()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
        page.get_by_role("link", name="Add an endpoint").click()
        page.get_by_label("Endpoint URL").fill("not a url")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("alert")).to_contain_text("Endpoint URL")

        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.get_by_label("Description (optional)").fill("Case tracker")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator(".messages")).to_contain_text("Endpoint added")
        endpoint = WebhookEndpoint.objects.get(brand=acme)
        page.get_by_text("Show the secret").click()
        expect(page.get_by_text(endpoint.secret)).to_be_visible()

        page.get_by_role("button", name="Send test event").click()
        expect(page.locator(".messages")).to_contain_text("Test event queued")
        (request,) = receiver.wait_for(1)
        # The worker records the answer just after the receiver sent it.
        wait_until(WebhookDelivery.objects.filter(state="succeeded").exists, "the delivery to be recorded", timeout=10)
        page.reload()
        expect(page.get_by_role("cell", name="Delivered")).to_be_visible()
        expect(page.get_by_role("cell", name="HTTP 200")).to_be_visible()

    verify_signature(endpoint.secret, request.body, request.headers[SIGNATURE_HEADER])
    assert json.loads(request.body)["type"] == "ping"
