"""Webhooks: the outbox rows a status change writes, the signature, the SSRF guard, and delivery to a
real HTTP server on this machine (retries, back-off, giving up, the log), through the task functions and
through a real Celery worker."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from integrations import services, tasks
from integrations.choices import DeliveryState, EventType
from integrations.models import WebhookDelivery, WebhookEvent
from integrations.network import UnsafeURL, check_webhook_url
from integrations.signing import SIGNATURE_HEADER, SignatureError, signature_header, verify_signature
from tests import factories
from tests.integrations.receiver import local_receiver
from tests.workers import running_worker, wait_until

# --- signature ------------------------------------------------------------------------------------


def test_a_signature_verifies_and_binds_the_timestamp_and_body():
    body = b'{"id":"1"}'
    header = signature_header("whsec_x", body, timestamp=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    assert verify_signature("whsec_x", body, header, now=1_800_000_100) == 1_800_000_000
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("whsec_x", b'{"id":"2"}', header, now=1_800_000_100)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("whsec_other", body, header, now=1_800_000_100)
    with pytest.raises(SignatureError, match="tolerance"):
        verify_signature("whsec_x", body, header, now=1_800_000_000 + 301)
    # Changing the timestamp to pass the tolerance breaks the signature: replays cannot be refreshed.
    forged = header.replace("t=1800000000", "t=1800000300")
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("whsec_x", body, forged, now=1_800_000_300)
    with pytest.raises(SignatureError, match="No timestamp"):
        verify_signature("whsec_x", body, "v1=abc")


# --- SSRF guard -----------------------------------------------------------------------------------


def test_private_loopback_and_metadata_addresses_are_refused(settings):
    settings.MARKETSAFE = {
        **settings.MARKETSAFE,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False,
        "WEBHOOK_REQUIRE_HTTPS": True,
    }
    for url in ("https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest", "https://[::1]/"):
        with pytest.raises(UnsafeURL, match="private or reserved"):
            check_webhook_url(url)
    with pytest.raises(UnsafeURL, match="https://"):
        check_webhook_url("http://93.184.215.14/hook")
    with pytest.raises(UnsafeURL, match="user name"):
        check_webhook_url("https://user:pw@93.184.215.14/hook")
    check_webhook_url("https://93.184.215.14/hook")  # a public address passes (no DNS needed for a literal)


#: Every special-purpose range a webhook must not reach, in each form an address may take (issue 14.4).
REFUSED_ADDRESSES = (
    "127.0.0.1",  # loopback
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "169.254.169.254",  # link-local: the cloud metadata address
    "0.0.0.0",  # noqa: S104 - "this host"
    "192.0.0.1",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",  # broadcast
    "::1",
    "::",
    "fe80::1",  # link-local
    "fec0::1",  # site-local (deprecated, still not global)
    "fc00::1",  # unique local
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254: the case
    "64:ff9b::5db8:d70e",  # NAT64 of a public address: the embedding itself is refused
    "64:ff9b:1::a9fe:a9fe",  # local-use NAT64
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "2002:5db8:d70e::1",  # 6to4 of a public address
    "2001::1",  # Teredo
)


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_every_special_purpose_address_is_refused(settings, address):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURL, match="private or reserved"):
        check_webhook_url(f"https://{host}/hook")


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(settings, address):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}
    host = f"[{address}]" if ":" in address else address
    check_webhook_url(f"https://{host}/hook")


def test_private_addresses_are_refused_by_default_in_every_mode():
    """The README's configuration table says so: only tests and local demos turn the setting on."""
    from django.conf import settings as django_settings

    assert django_settings.MARKETSAFE["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] is False


@pytest.mark.django_db
def test_a_delivery_refused_by_the_guard_is_given_up_at_once(brand_endpoint, receiver, file_case, settings):
    file_case(1)
    settings.MARKETSAFE = {**settings.MARKETSAFE, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}
    delivery = WebhookDelivery.objects.get(endpoint=brand_endpoint)
    result = services.delivery_attempt(delivery_id=delivery.pk)
    assert (result.state, result.retry_in) == (DeliveryState.FAILED, None)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 1)
    assert delivery.last_error.startswith("Refused: 127.0.0.1 resolves to a private or reserved address")
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_brand_cannot_register_a_private_address(brand, owner, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False}
    with pytest.raises(Exception, match="private or reserved"):
        services.webhook_endpoint_create(brand=brand, url="http://127.0.0.1:8000/", actor=owner)


# --- the outbox -----------------------------------------------------------------------------------


@pytest.fixture
def endpoints(brand, other_brand, marketplace, owner, webhook_settings):
    other_market = factories.MarketplaceFactory(slug="elsewhere", hosts=["elsewhere.example"])
    return {
        "brand": services.webhook_endpoint_create(brand=brand, url="http://127.0.0.1:9/a", actor=owner),
        "other_brand": services.webhook_endpoint_create(brand=other_brand, url="http://127.0.0.1:9/b", actor=None),
        "marketplace": services.webhook_endpoint_create(
            marketplace=marketplace, url="http://127.0.0.1:9/c", actor=None
        ),
        "other_marketplace": services.webhook_endpoint_create(
            marketplace=other_market, url="http://127.0.0.1:9/d", actor=None
        ),
    }


@pytest.mark.django_db
def test_every_status_change_writes_an_event_for_the_brand_and_the_marketplace_only(
    endpoints, file_case, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        case = file_case(2)
    assert len(callbacks) == 1  # one message hands all the deliveries of the filing to Celery
    item = case.items.order_by("pk").first()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    events = WebhookEvent.objects.filter(item_id=item.pk).order_by("txid", "pk")
    assert [(e.from_status, e.to_status) for e in events] == [("", "submitted"), ("submitted", "accepted")]
    accepted = events.last()
    assert accepted.payload["data"]["item"]["status"] == "accepted"
    assert accepted.payload["data"]["item"]["previous_status"] == "submitted"
    assert accepted.payload["id"] == str(accepted.uuid)
    receivers = set(WebhookDelivery.objects.filter(event=accepted).values_list("endpoint_id", flat=True))
    assert receivers == {endpoints["brand"].pk, endpoints["marketplace"].pk}
    assert not WebhookDelivery.objects.filter(endpoint__in=[endpoints["other_brand"], endpoints["other_marketplace"]])


@pytest.mark.django_db
def test_a_refused_transition_leaves_no_event(endpoints, file_case, moderator):
    item = file_case(1).items.get()
    before = WebhookEvent.objects.count()
    with pytest.raises(case_services.TransitionNotAllowed):
        case_services.item_appeal(item_id=item.pk, appellant="brand", grounds="No decision yet.")
    assert WebhookEvent.objects.count() == before


# --- delivery to a real local server --------------------------------------------------------------


@pytest.fixture
def brand_endpoint(brand, owner, webhook_settings, receiver):
    return services.webhook_endpoint_create(brand=brand, url=receiver.url, actor=owner)


def _due_now(delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())


@pytest.mark.django_db
def test_a_delivery_is_signed_and_logged(brand_endpoint, receiver, file_case):
    file_case(1)
    delivery = WebhookDelivery.objects.get(endpoint=brand_endpoint)
    result = services.delivery_attempt(delivery_id=delivery.pk)
    assert result.state == DeliveryState.SUCCEEDED
    (request,) = receiver.requests
    assert request.path == "/hooks/marketsafe"
    assert verify_signature(brand_endpoint.secret, request.body, request.headers[SIGNATURE_HEADER])
    event = json.loads(request.body)
    assert event["type"] == EventType.ITEM_STATUS_CHANGED and event["data"]["item"]["status"] == "submitted"
    assert request.headers["MarketSafe-Event-Id"] == event["id"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    (attempt,) = delivery.log.all()
    assert attempt.status_code == 200 and attempt.error == "" and attempt.duration_ms >= 0
    # A second message for the same delivery (late ack, the sweep) sends nothing.
    assert services.delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_failures_are_retried_with_growing_delays_then_given_up(brand_endpoint, receiver, file_case):
    receiver.script = [500, 503, 502]
    file_case(1)
    delivery = WebhookDelivery.objects.get(endpoint=brand_endpoint)
    first = services.delivery_attempt(delivery_id=delivery.pk)
    assert (first.state, first.retry_in) == (DeliveryState.PENDING, timedelta(seconds=1))
    assert services.delivery_attempt(delivery_id=delivery.pk) is None  # not due yet: nothing sent
    _due_now(delivery.pk)
    second = services.delivery_attempt(delivery_id=delivery.pk)
    assert second.retry_in == timedelta(seconds=2)
    _due_now(delivery.pk)
    assert services.delivery_attempt(delivery_id=delivery.pk).state == DeliveryState.FAILED  # 3 attempts max
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 502")
    assert [a.status_code for a in delivery.log.order_by("attempted_at", "pk")] == [500, 503, 502]
    assert len(receiver.requests) == 3
    services.delivery_retry(delivery_id=delivery.pk, actor=None)  # the admin's "send again"
    assert services.delivery_attempt(delivery_id=delivery.pk).state == DeliveryState.SUCCEEDED


def test_the_backoff_doubles_up_to_its_cap(settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "WEBHOOK_BACKOFF_SECONDS": 30, "WEBHOOK_BACKOFF_MAX_SECONDS": 200}
    assert [services.backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 200, 200]


@pytest.mark.django_db
def test_a_slow_receiver_times_out_and_the_error_is_logged(brand_endpoint, receiver, file_case):
    receiver.delay = 2.5  # the read timeout is 1 s
    file_case(1)
    delivery = WebhookDelivery.objects.get(endpoint=brand_endpoint)
    result = services.delivery_attempt(delivery_id=delivery.pk)
    assert result.state == DeliveryState.PENDING
    attempt = delivery.log.get()
    assert attempt.status_code is None and "Timeout" in attempt.error and attempt.duration_ms >= 900


@pytest.mark.django_db
def test_an_unreachable_receiver_is_an_error_not_a_crash(brand, owner, webhook_settings, file_case):
    with local_receiver() as gone:
        url = gone.url
    endpoint = services.webhook_endpoint_create(brand=brand, url=url, actor=owner)
    file_case(1)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert services.delivery_attempt(delivery_id=delivery.pk).state == DeliveryState.PENDING
    assert "ConnectError" in delivery.log.get().error


@pytest.mark.django_db
def test_the_sweep_finds_deliveries_whose_message_was_lost(brand_endpoint, file_case, settings):
    file_case(1)
    delivery = WebhookDelivery.objects.get(endpoint=brand_endpoint)
    assert services.deliveries_due() == []  # just created: its message is on its way
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert services.deliveries_due() == [delivery.pk]


# --- end to end: a real Celery worker, Redis and PostgreSQL ----------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_decision_reaches_the_receiver_through_a_real_worker_with_a_retry(
    brand, file_case, moderator, owner, webhook_settings, receiver
):
    endpoint = services.webhook_endpoint_create(brand=brand, url=receiver.url, actor=owner)
    receiver.script = [500]  # the first delivery fails once: the worker retries it after the back-off
    with running_worker():
        item = file_case(1).items.get()
        received = receiver.wait_for(2)  # submitted: failed once, then delivered
        case_services.item_accept(item_id=item.pk, actor=moderator)
        received = receiver.wait_for(3)
        services.webhook_send_test(endpoint_id=endpoint.pk, actor=owner)
        received = receiver.wait_for(4)
    bodies = [json.loads(r.body) for r in received]
    for request in received:
        verify_signature(endpoint.secret, request.body, request.headers[SIGNATURE_HEADER])
    assert bodies[0]["id"] == bodies[1]["id"]  # the retry resends the same event
    assert [b["data"].get("item", {}).get("status") for b in bodies] == ["submitted", "submitted", "accepted", None]
    assert bodies[3]["type"] == "ping"
    pending = WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
    wait_until(lambda: not pending.exists(), "no delivery left pending", timeout=10)
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert [a.status_code for a in WebhookDelivery.objects.get(event__to_status="submitted").log.order_by("pk")] == [
        500,
        200,
    ]


@pytest.mark.django_db
def test_the_sweep_task_requeues_due_deliveries(brand_endpoint, file_case, monkeypatch):
    file_case(1)
    delivery = WebhookDelivery.objects.get(endpoint=brand_endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    sent = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", sent.append)  # the broker is not what this test checks
    assert tasks.sweep_webhook_deliveries() == 1
    assert sent == [delivery.pk]
