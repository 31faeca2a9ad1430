"""Writes on marketplace data. Each state change is guarded by the current state and audited in the
caller's transaction, so callers (cases, delisting jobs, the API) never touch listing rows directly."""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.db.models import Q
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


#: Query parameters that say where a visitor came from, never which listing: dropped from listing URLs.
TRACKING_PARAMETERS = frozenset(
    {"ref", "ref_src", "referrer", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga"}
)
TRACKING_PREFIXES = ("utm_",)


#: A URL already in the canonical form (https, lower-case host without port or user, a path not ending in
#: "/" unless it is the root, no query, no fragment, nothing `urlsplit` would strip or split on): returned
#: as it is, without taking it apart. Most URLs a marketplace's system sends look like this.
_CANONICAL = re.compile(r"https://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/|(?:/[^?#\s\x00-\x1f\x7f\\/]+)+)")


def normalise_listing_url(url: str) -> str:
    """The canonical form listings are stored under: https, lower-case host, no fragment, no trailing slash,
    no tracking parameters (`TRACKING_PARAMETERS`, `utm_*`); the other query parameters keep their order.

    The one place listing URLs are canonicalised: the filing preview, the API's dry run, filing, the
    platform upsert and delisting files all call it. Raises ValueError when `url` is not an absolute
    http(s) URL.
    """
    if _CANONICAL.fullmatch(url):
        return url
    return _normalise_parsed(url)


def _normalise_parsed(url: str) -> str:
    """`normalise_listing_url` by taking the URL apart, whatever its form."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError("not an absolute http(s) URL")
    host = parts.hostname.lower()
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [
            (name, value)
            for name, value in pairs
            if name.lower() not in TRACKING_PARAMETERS and not name.lower().startswith(TRACKING_PREFIXES)
        ]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit(("https", host, path, query, ""))


def marketplace_for_host(host: str, marketplaces: Iterable[Marketplace] | None = None) -> Marketplace:
    """The active marketplace that owns `host` (a `www.` prefix is ignored)."""
    host = host.lower().removeprefix("www.")
    candidates = marketplaces if marketplaces is not None else Marketplace.objects.filter(is_active=True)
    for marketplace in candidates:
        if host in {h.lower().removeprefix("www.") for h in marketplace.hosts}:
            return marketplace
    raise UnknownMarketplace(host_shown(host))


class NotAListingUrl(ValueError):
    """The URL is on a marketplace whose listing URLs look otherwise (`Marketplace.listing_id_pattern`)."""

    def __init__(self, marketplace: Marketplace) -> None:
        self.marketplace = marketplace
        super().__init__(
            f"Not a listing URL of {marketplace.name}: its listing URLs look like {listing_url_example(marketplace)}."
        )


def listing_url_example(marketplace: Marketplace) -> str:
    """What a listing URL of `marketplace` looks like, for messages: its declared example, else its pattern."""
    if marketplace.listing_url_example:
        return marketplace.listing_url_example
    return f"https://{marketplace.hosts[0]} followed by a path matching {marketplace.listing_id_pattern}"


def listing_external_id(marketplace: Marketplace, url: str) -> str | None:
    """The marketplace's id of the listing at `url` (a canonical URL), None when it declares no pattern.

    Raises NotAListingUrl when the marketplace declares how its listing URLs look and `url` does not fit.
    """
    if not marketplace.listing_id_pattern:
        return None
    match = re.search(marketplace.listing_id_pattern, urlsplit(url).path)
    if not match:
        raise NotAListingUrl(marketplace)
    return match.group(1)


def listing_keys_query(keys: Iterable[tuple[int, str]], prefix: str = "") -> Q:
    """A filter on listings (through `prefix`, e.g. "listing__") by (marketplace id, external id): one OR
    term per marketplace. Matches nothing when `keys` is empty."""
    by_marketplace: dict[int, set[str]] = {}
    for marketplace_id, external_id in keys:
        by_marketplace.setdefault(marketplace_id, set()).add(external_id)
    query = Q(**{f"{prefix}pk__in": []})
    for marketplace_id, external_ids in by_marketplace.items():
        query |= Q(**{f"{prefix}marketplace_id": marketplace_id, f"{prefix}external_id__in": sorted(external_ids)})
    return query


def listings_resolve_urls(urls: Iterable[str]) -> dict[str, Listing]:
    """Listings for already-normalised URLs, creating the ones not yet known (a few queries in all).

    A URL that names a known listing in another form (another host alias, another query) resolves to
    that listing through the marketplace's listing id, so two URLs may map to one listing: callers that
    need distinct listings check the result. Raises UnknownMarketplace for the first URL whose host no
    marketplace owns and NotAListingUrl for the first that does not fit its marketplace's listing URLs;
    callers that report per-row problems check them first (`cases.importing.RowChecker`).
    """
    wanted = list(dict.fromkeys(urls))
    found = {listing.url: listing for listing in Listing.objects.filter(url__in=wanted)}
    missing = [url for url in wanted if url not in found]
    if missing:
        marketplaces = list(Marketplace.objects.filter(is_active=True))
        keyed: dict[str, tuple[Marketplace, str | None]] = {}
        for url in missing:
            marketplace = marketplace_for_host(urlsplit(url).hostname or "", marketplaces)
            keyed[url] = (marketplace, listing_external_id(marketplace, url))

        def by_key() -> dict[tuple[int, str], Listing]:
            keys = [(m.pk, ext) for m, ext in keyed.values() if ext is not None]
            if not keys:
                return {}
            return {
                (listing.marketplace_id, listing.external_id): listing
                for listing in Listing.objects.filter(listing_keys_query(keys))
            }

        known = by_key()
        new = [
            Listing(marketplace=marketplace, url=url, external_id=external_id)
            for url, (marketplace, external_id) in keyed.items()
            if (marketplace.pk, external_id) not in known
        ]
        # Another request may create the same URL or id meanwhile: ignore conflicts, then read back.
        Listing.objects.bulk_create(new, ignore_conflicts=True)
        found.update({listing.url: listing for listing in Listing.objects.filter(url__in=missing)})
        if any(url not in found for url in missing):
            known = by_key()
        for url, (marketplace, external_id) in keyed.items():
            if url not in found:
                found[url] = known[(marketplace.pk, external_id)]
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
    weight: int = 1,
) -> Strike:
    """Give the seller a strike for a final removal; recording the same item twice gives one strike.

    `issued_at` is when the removal became final (a deadline sweep may run after it); now by default.
    `weight` is what the strike counts for in the ladder (the caller's rule: a removal confirmed by a test
    purchase weighs more).
    A new strike evaluates the repeat-infringer policy (`listings.penalties.penalty_evaluate`).
    """
    now = issued_at or timezone.now()
    strike, created = Strike.objects.get_or_create(
        seller_id=seller_id,
        source_item_id=source_item_id,
        defaults={
            "reason_code": reason_code,
            "weight": weight,
            "issued_at": now,
            "expires_at": now + strike_lifetime(),
        },
    )
    if created:
        audit_record(
            action="strike.record",
            target=strike,
            actor=actor,
            automated=automated,
            reason=f"Final removal of case item #{source_item_id}",
            data={"seller_id": seller_id, "expires_at": strike.expires_at.isoformat(), "weight": strike.weight},
        )
        # Here, not at the top: penalties imports delisting, which imports this module.
        from listings.penalties import penalty_evaluate

        made_final = f", made final by {actor}" if actor is not None else ""
        penalty_evaluate(
            seller_id=seller_id,
            trigger=f"strike #{strike.pk} for the final removal of case item #{source_item_id}{made_final}",
            actor=actor,
        )
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
