"""Writes of the integration app: service tokens, webhook endpoints, test events and delivery attempts."""

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit.services import audit_record
from integrations.choices import DeliveryState, EventType
from integrations.models import (
    ServiceToken,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.network import UnsafeURL, check_webhook_url
from integrations.outbox import enqueue_on_commit
from integrations.signing import SIGNATURE_HEADER, signature_header

TOKEN_PREFIX = "mst_"  # noqa: S105 (a public prefix that marks MarketSafe service tokens, not a secret)


def _rules() -> dict:
    return settings.MARKETSAFE


def token_hash(token: str) -> str:
    # A token carries 256 random bits: a plain SHA-256 cannot be brute-forced, and lookups stay one index probe.
    return hashlib.sha256(token.encode()).hexdigest()


# --- service tokens -------------------------------------------------------------------------------


@transaction.atomic
def service_token_create(*, marketplace: Any, name: str, actor: Any) -> tuple[ServiceToken, str]:
    """A new token for `marketplace`; returns the row and the token, which is never shown again."""
    if not name.strip():
        raise ValidationError({"name": "Name the system that will use the token."})
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ServiceToken.objects.create(
        marketplace=marketplace, name=name.strip(), prefix=prefix, token_hash=token_hash(token), created_by=actor
    )
    audit_record(action="service_token.create", target=row, actor=actor, data={"marketplace": marketplace.pk})
    return row, token


@transaction.atomic
def service_token_revoke(*, token_id: int, actor: Any) -> ServiceToken:
    row = ServiceToken.objects.select_for_update().get(pk=token_id)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit_record(action="service_token.revoke", target=row, actor=actor)
    return row


def service_token_authenticate(token: str) -> ServiceToken | None:
    """The active token row for `token` (with its marketplace), or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ServiceToken.objects.select_related("marketplace")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, marketplace__is_active=True)
        .first()
    )
    if row is not None:
        now = timezone.now()
        # One write per minute at most: a busy integration must not turn every call into an UPDATE.
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            ServiceToken.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = now
    return row


# --- webhook endpoints ----------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    try:
        check_webhook_url(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


@transaction.atomic
def webhook_endpoint_create(
    *, url: str, actor: Any, brand: Any = None, marketplace: Any = None, description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint for a brand or a marketplace; its signing secret is generated here."""
    if (brand is None) == (marketplace is None):
        raise ValueError("An endpoint belongs to exactly one brand or one marketplace.")
    endpoint = WebhookEndpoint.objects.create(
        brand=brand,
        marketplace=marketplace,
        url=_checked_url(url.strip()),
        description=description.strip(),
        secret=f"whsec_{secrets.token_hex(24)}",
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(
        action="webhook.create",
        target=endpoint,
        actor=actor,
        brand_id=endpoint.brand_id,
        data={"url": endpoint.url, "marketplace": endpoint.marketplace_id},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint_id: int, actor: Any) -> None:
    """Remove an endpoint with its deliveries and their log (events stay: they feed the decisions endpoint)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    audit_record(action="webhook.delete", target=endpoint, actor=actor, brand_id=endpoint.brand_id)
    endpoint.delete()


@transaction.atomic
def webhook_send_test(*, endpoint_id: int, actor: Any) -> WebhookDelivery:
    """Queue a signed `ping` event to one endpoint (the "send test event" button)."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    event = WebhookEvent(type=EventType.PING, brand_id=endpoint.brand_id, marketplace_id=endpoint.marketplace_id)
    event.payload = {
        "id": str(event.uuid),
        "type": EventType.PING.value,
        "created": timezone.now().isoformat(),
        "data": {"endpoint_id": endpoint.pk, "message": "Test event sent from MarketSafe."},
    }
    event.save()
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    audit_record(action="webhook.test", target=endpoint, actor=actor, brand_id=endpoint.brand_id)
    enqueue_on_commit([delivery.pk])
    return delivery


# --- delivery -------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: base, twice the base, four times, ... up to the cap."""
    seconds = _rules()["WEBHOOK_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, _rules()["WEBHOOK_BACKOFF_MAX_SECONDS"]))


@dataclass(frozen=True)
class AttemptResult:
    state: str
    retry_in: timedelta | None = None


class _Refused(Exception):
    """The SSRF guard refused the endpoint's address: final for the delivery, never retried."""


def _post(endpoint: WebhookEndpoint, body: bytes, event: WebhookEvent) -> tuple[int | None, str]:
    """POST the signed body; (status code, error text). Never follows redirects.

    Raises _Refused (with the error text) when the guard refuses the URL."""
    try:
        check_webhook_url(endpoint.url)
    except UnsafeURL as exc:
        raise _Refused(f"Refused: {exc}") from exc
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "MarketSafe-Webhooks/1",
        SIGNATURE_HEADER: signature_header(endpoint.secret, body),
        "MarketSafe-Event-Id": str(event.uuid),
        "MarketSafe-Event-Type": event.type,
    }
    timeout = httpx.Timeout(_rules()["WEBHOOK_READ_TIMEOUT"], connect=_rules()["WEBHOOK_CONNECT_TIMEOUT"])
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}"


def delivery_attempt(*, delivery_id: int, now: Any = None) -> AttemptResult | None:
    """Try one pending, due delivery once; record the attempt and schedule the next or give up.

    The row stays locked (SKIP LOCKED for anyone else) during the HTTP call, which the timeouts bound, so
    two copies of the task never send the same delivery at once. None when there is nothing to do (not
    pending, not yet due, or being sent by another worker).
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, state=DeliveryState.PENDING)
            .first()
        )
        now = now or timezone.now()
        if delivery is None or delivery.next_attempt_at > now:
            return None
        endpoint = delivery.endpoint
        body = json.dumps(delivery.event.payload, separators=(",", ":"), sort_keys=True).encode()
        started = time.monotonic()
        final = not endpoint.is_active
        if endpoint.is_active:
            try:
                status_code, error = _post(endpoint, body, delivery.event)
            except _Refused as exc:
                status_code, error, final = None, str(exc), True
        else:
            status_code, error = None, "The endpoint is disabled."
        duration_ms = int((time.monotonic() - started) * 1000)
        WebhookAttempt.objects.create(
            delivery=delivery, status_code=status_code, duration_ms=duration_ms, error=error[:500]
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error[:500]
        result: AttemptResult
        if not error:
            delivery.state, delivery.delivered_at = DeliveryState.SUCCEEDED, timezone.now()
            result = AttemptResult(DeliveryState.SUCCEEDED)
        elif delivery.attempts >= _rules()["WEBHOOK_MAX_ATTEMPTS"] or final:
            delivery.state = DeliveryState.FAILED
            result = AttemptResult(DeliveryState.FAILED)
        else:
            wait = backoff(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + wait
            result = AttemptResult(DeliveryState.PENDING, retry_in=wait)
        delivery.save(
            update_fields=["attempts", "last_status_code", "last_error", "state", "delivered_at", "next_attempt_at"]
        )
        return result


@transaction.atomic
def delivery_retry(*, delivery_id: int, actor: Any) -> WebhookDelivery:
    """Send a given-up delivery again (resets its attempts), e.g. after the receiver was fixed."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.PENDING, 0, timezone.now()
    delivery.save(update_fields=["state", "attempts", "next_attempt_at"])
    audit_record(action="webhook.retry", target=delivery.endpoint, actor=actor, data={"delivery": delivery.pk})
    enqueue_on_commit([delivery.pk])
    return delivery


def deliveries_due(*, limit: int = 1000) -> list[int]:
    """Pending deliveries due for longer than the re-queue delay: their message was lost (or a worker died)."""
    cutoff = timezone.now() - timedelta(seconds=_rules()["WEBHOOK_REQUEUE_AFTER_SECONDS"])
    return list(
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
