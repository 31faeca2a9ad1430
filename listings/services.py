"""Writes on marketplace data. Each state change is guarded by the current state and audited in the
caller's transaction, so callers (cases, delisting jobs, the API) never touch listing rows directly."""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from core.audit.services import audit_record
from listings.choices import LISTING_LIVE_STATUSES, ListingStatus
from listings.models import Listing, Marketplace, PenaltyPolicy, Strike

DEFAULT_STRIKE_LIFETIME = timedelta(days=365)


class UnknownMarketplace(ValueError):
    """The URL's host belongs to no marketplace in the portal; its text is the host as `host_shown` writes it."""


def host_shown(host: str) -> str:
    """A host as an error message shows it: a host with letters outside ASCII (`shopnow.example` written
    with a Cyrillic "o") in its punycode form, which shows the user why it is not the marketplace it looks like."""
    if host.isascii():
        return host
    try:
        ascii_form = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_form = host.encode("ascii", "backslashreplace").decode("ascii")
    return f"{ascii_form} (shown as {host}, but written with look-alike letters that are not plain Latin ones)"


def normalise_listing_url(url: str) -> str:
    """The canonical form listings are stored under: https, lower-case host, no fragment, no trailing slash.

    Raises ValueError when `url` is not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError("not an absolute http(s) URL")
    host = parts.hostname.lower()
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, parts.query, ""))


def marketplace_for_host(host: str, marketplaces: Iterable[Marketplace] | None = None) -> Marketplace:
    """The active marketplace that owns `host` (a `www.` prefix is ignored)."""
    host = host.lower().removeprefix("www.")
    candidates = marketplaces if marketplaces is not None else Marketplace.objects.filter(is_active=True)
    for marketplace in candidates:
        if host in {h.lower().removeprefix("www.") for h in marketplace.hosts}:
            return marketplace
    raise UnknownMarketplace(host_shown(host))


def _external_id(marketplace: Marketplace, url: str) -> str | None:
    if not marketplace.listing_id_pattern:
        return None
    match = re.search(marketplace.listing_id_pattern, urlsplit(url).path)
    return match.group(1) if match else None


def listings_resolve_urls(urls: Iterable[str]) -> dict[str, Listing]:
    """Listings for already-normalised URLs, creating the ones not yet known (one query each way).

    Raises UnknownMarketplace for the first URL whose host no marketplace owns; callers that report
    per-row problems check hosts first with `marketplace_for_host`.
    """
    wanted = list(dict.fromkeys(urls))
    found = {listing.url: listing for listing in Listing.objects.filter(url__in=wanted)}
    missing = [url for url in wanted if url not in found]
    if missing:
        marketplaces = list(Marketplace.objects.filter(is_active=True))
        new = []
        for url in missing:
            marketplace = marketplace_for_host(urlsplit(url).hostname or "", marketplaces)
            new.append(Listing(marketplace=marketplace, url=url, external_id=_external_id(marketplace, url)))
        # Another request may create the same URL meanwhile: ignore conflicts, then read back.
        Listing.objects.bulk_create(new, ignore_conflicts=True)
        found.update({listing.url: listing for listing in Listing.objects.filter(url__in=missing)})
    return found


def _listing_set_status(
    *, listing_id: int, allowed_from: Iterable[str], to: str, action: str, actor: Any, reason: str, automated: bool
) -> bool:
    listing = Listing.objects.select_for_update().get(pk=listing_id)
    if listing.status not in allowed_from:
        return False
    old = listing.status
    listing.status = to
    listing.status_changed_at = timezone.now()
    listing.save(update_fields=["status", "status_changed_at"])
    audit_record(
        action=action, target=listing, actor=actor, automated=automated, from_state=old, to_state=to, reason=reason
    )
    return True


@transaction.atomic
def listing_remove(*, listing_id: int, actor: Any = None, reason: str, automated: bool = False) -> bool:
    """Take a live listing down. Returns False (and changes nothing) when it is not live any more."""
    return _listing_set_status(
        listing_id=listing_id,
        allowed_from=LISTING_LIVE_STATUSES,
        to=ListingStatus.REMOVED,
        action="listing.remove",
        actor=actor,
        reason=reason,
        automated=automated,
    )


@transaction.atomic
def listing_reinstate(*, listing_id: int, actor: Any = None, reason: str, automated: bool = False) -> bool:
    """Put a removed listing back. Returns False (and changes nothing) when it is not removed."""
    return _listing_set_status(
        listing_id=listing_id,
        allowed_from=(ListingStatus.REMOVED,),
        to=ListingStatus.REINSTATED,
        action="listing.reinstate",
        actor=actor,
        reason=reason,
        automated=automated,
    )


def strike_lifetime() -> timedelta:
    policy = PenaltyPolicy.objects.filter(is_active=True).first()
    return timedelta(days=policy.strike_lifetime_days) if policy else DEFAULT_STRIKE_LIFETIME


@transaction.atomic
def strike_record(
    *,
    seller_id: int,
    source_item_id: int,
    reason_code: str,
    actor: Any = None,
    automated: bool = False,
    issued_at: datetime | None = None,
) -> Strike:
    """Give the seller a strike for a final removal; recording the same item twice gives one strike.

    `issued_at` is when the removal became final (a deadline sweep may run after it); now by default.
    A new strike evaluates the repeat-infringer policy (`listings.penalties.penalty_evaluate`).
    """
    now = issued_at or timezone.now()
    strike, created = Strike.objects.get_or_create(
        seller_id=seller_id,
        source_item_id=source_item_id,
        defaults={"reason_code": reason_code, "issued_at": now, "expires_at": now + strike_lifetime()},
    )
    if created:
        audit_record(
            action="strike.record",
            target=strike,
            actor=actor,
            automated=automated,
            reason=f"Final removal of case item #{source_item_id}",
            data={"seller_id": seller_id, "expires_at": strike.expires_at.isoformat()},
        )
        # Here, not at the top: penalties imports delisting, which imports this module.
        from listings.penalties import penalty_evaluate

        penalty_evaluate(seller_id=seller_id, actor=actor, automated=automated)
    return strike


@transaction.atomic
def strike_revoke_for_item(*, source_item_id: int, actor: Any, reason: str) -> int:
    """Revoke the strike a case item gave (its removal was overturned). Returns how many were revoked."""
    revoked = 0
    for strike in Strike.objects.select_for_update().filter(source_item_id=source_item_id, revoked_at__isnull=True):
        strike.revoked_at = timezone.now()
        strike.revoke_reason = reason
        strike.save(update_fields=["revoked_at", "revoke_reason"])
        audit_record(action="strike.revoke", target=strike, actor=actor, reason=reason)
        revoked += 1
    return revoked
