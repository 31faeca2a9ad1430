"""The brand's webhook pages and the admin for service tokens and marketplace endpoints."""

import pytest
from django.urls import reverse

from integrations import services
from integrations.models import ServiceToken, WebhookDelivery, WebhookEndpoint
from tests import factories

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks/marketsafe"


def test_an_owner_registers_an_endpoint_and_sees_its_secret(client, brand, owner):
    client.force_login(owner)
    response = client.post(
        reverse("integrations:webhook_create", kwargs={"brand_slug": brand.slug}),
        {"url": PUBLIC_URL, "description": "Tracker"},
    )
    endpoint = WebhookEndpoint.objects.get(brand=brand)
    assert response["Location"] == reverse(
        "integrations:webhook_detail", kwargs={"brand_slug": brand.slug, "pk": endpoint.pk}
    )
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page and "Nothing sent yet" in page
    listing = client.get(reverse("integrations:webhook_list", kwargs={"brand_slug": brand.slug})).content.decode()
    assert PUBLIC_URL in listing


def test_a_private_address_is_refused_next_to_the_field(client, brand, owner, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}
    client.force_login(owner)
    response = client.post(
        reverse("integrations:webhook_create", kwargs={"brand_slug": brand.slug}), {"url": "http://10.0.0.7/hook"}
    )
    assert response.status_code == 200
    assert "private or reserved address" in response.context["form"].errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_test_button_queues_a_ping_shown_in_the_log(client, brand, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    endpoint = services.webhook_endpoint_create(brand=brand, url=PUBLIC_URL, actor=owner)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("integrations:webhook_test", kwargs={"brand_slug": brand.slug, "pk": endpoint.pk}))
    assert len(callbacks) == 1
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event.type == "ping" and delivery.state == "pending"
    page = client.get(reverse("integrations:webhook_detail", kwargs={"brand_slug": brand.slug, "pk": endpoint.pk}))
    assert "Test event" in page.content.decode()
    filtered = client.get(page.wsgi_request.path, {"state": "succeeded"}).content.decode()
    assert "No deliveries match the filter." in filtered


def test_a_brand_has_at_most_ten_endpoints(client, brand, owner):
    for n in range(10):
        services.webhook_endpoint_create(brand=brand, url=f"{PUBLIC_URL}/{n}", actor=owner)
    client.force_login(owner)
    response = client.post(
        reverse("integrations:webhook_create", kwargs={"brand_slug": brand.slug}), {"url": PUBLIC_URL}
    )
    assert "at most 10 endpoints" in response.content.decode()


def test_the_admin_creates_a_token_shown_once(client, marketplace):
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:integrations_servicetoken_add"), {"marketplace": marketplace.pk, "name": "sync"}, follow=True
    )
    row = ServiceToken.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "Token for" in str(m)]
    token = message.split("Token for ShopNow: ")[1].split(" ")[0]
    assert services.service_token_authenticate(token) == row
    page = client.get(reverse("admin:integrations_servicetoken_change", args=[row.pk])).content.decode()
    assert token not in page and row.prefix in page
    client.post(
        reverse("admin:integrations_servicetoken_changelist"), {"action": "revoke", "_selected_action": [row.pk]}
    )
    assert services.service_token_authenticate(token) is None


def test_the_admin_registers_a_marketplace_endpoint(client, marketplace):
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"marketplace": marketplace.pk, "url": PUBLIC_URL, "description": "moderation bus", "is_active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.marketplace == marketplace and endpoint.brand is None and endpoint.secret.startswith("whsec_")
