"""Brand watch: a brand's saved searches over the marketplace catalogue, run periodically over the listings
that appeared since the last run, and what the brand makes of each match (seen, filed, dismissed).

A run (`watch_search_run`) holds its search's row lock (a second run of the same search skips it), looks
only at listings with an id above the search's high-water mark, walks them by id ranges of `RUN_STEP`
(never OFFSET) with the search's criteria in SQL, every criterion required:

- words: each word in the title (`UPPER(title) LIKE '%WORD%'`, served by the trigram GIN `listing_title_trgm`);
- marketplace, seller, price range: plain column filters on the range;
- image: a listing image within PDQ's threshold (`bit_count(hash # probe) <= 31` over the listing's hashes,
  `detection.hashing`), only for the listings of the range.

A run records at most `MATCH_CAP` matches per search; beyond it the rest of the window is skipped and
the search is marked `last_run_capped` (the page asks to narrow it). New matches are published on
`WATCH_MATCHED` in the run's transaction (webhook events through the integrations app), and the daily
digest (`watch_digests_send`) e-mails each subscriber the new matches of their searches, once per brand
and day. The listing ids below the high-water mark are only those of listings created `SETTLE` ago, so a
listing whose transaction commits late is not skipped.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Func, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.db.models.lookups import Contains
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandMembership, IPRight
from cases.choices import Channel, ReasonCode
from cases.models import Case
from cases.services.filing import FilingRequest, ListingRow, case_submit
from core.audit.services import audit_record, audit_record_state_changes
from core.errors import Conflict
from core.mail import mail_on_commit
from core.outbox import publish
from detection import hashing
from detection.choices import WATCH_MATCHED, WatchMatchState
from detection.models import ListingImageHash, WatchDigest, WatchMatch, WatchSearch
from listings.choices import ListingStatus
from listings.models import Listing, Marketplace, Seller

#: Matches a search records per run; the page says so, and a capped run asks for a narrower search.
MATCH_CAP = 100
#: Listing ids per statement of a run.
RUN_STEP = 50_000
#: Listings younger than this are left to the next run: a transaction still open may hold a smaller id.
SETTLE = timedelta(minutes=2)
#: Matches listed per search in a digest e-mail (the rest are counted, and are on the page).
DIGEST_PER_SEARCH = 20

S = WatchMatchState

#: state → the states it may be set from by the brand (filing has its own service).
STATE_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    S.SEEN: (S.NEW,),
    S.DISMISSED: (S.NEW, S.SEEN),
    S.NEW: (S.SEEN, S.DISMISSED),
}
FILE_ALLOWED_FROM = (S.NEW, S.SEEN, S.DISMISSED)


class MatchAlreadyFiled(Conflict):
    pass


@dataclass(frozen=True)
class WatchCriteria:
    """What a saved search looks for (from the page's form or the API), checked by `criteria_clean`."""

    name: str
    words: str = ""
    marketplace_id: int | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    seller_id: int | None = None
    image_hash: str | None = None
    active: bool = True
    notify_webhook: bool = True

    @classmethod
    def of(cls, search: WatchSearch) -> "WatchCriteria":
        """The criteria a saved search holds (its fields bear the same names)."""
        return cls(**{f.name: getattr(search, f.name) for f in fields(cls)})


def criteria_clean(criteria: WatchCriteria) -> WatchCriteria:
    """The criteria normalised (words squeezed, hash in lower case); ValidationError naming the field."""
    errors: dict[str, str] = {}
    words = " ".join(criteria.words.split())
    image_hash = (criteria.image_hash or "").strip() or None
    if not criteria.name.strip():
        errors["name"] = "Give the search a name."
    if image_hash is not None:
        try:
            image_hash = hashing.parse_pdq(image_hash)
        except ValueError as exc:
            errors["image_hash"] = str(exc)
    for name in ("price_min", "price_max"):
        value = getattr(criteria, name)
        if value is not None and value < 0:
            errors[name] = "A price cannot be negative."
    if criteria.price_min is not None and criteria.price_max is not None and criteria.price_min > criteria.price_max:
        errors["price_max"] = f"The highest price must be at least the lowest ({criteria.price_min})."
    if criteria.seller_id is not None:
        seller = Seller.objects.filter(pk=criteria.seller_id).values_list("marketplace_id", flat=True).first()
        if seller is None:
            errors["seller"] = "No such seller."
        elif criteria.marketplace_id is not None and seller != criteria.marketplace_id:
            errors["seller"] = "This seller is not on the chosen marketplace."
    if criteria.marketplace_id is not None and not Marketplace.objects.filter(pk=criteria.marketplace_id).exists():
        errors["marketplace"] = "No such marketplace."
    if not (words or image_hash or criteria.seller_id or criteria.price_min is not None or criteria.price_max):
        # A marketplace alone would match its whole catalogue.
        errors.setdefault("words", "Give at least one of: words, a price range, a seller or a product image hash.")
    if len(words.split()) > 10:
        errors["words"] = "At most 10 words."
    if any(len(word) < 3 for word in words.split()):
        errors["words"] = "Each word needs at least 3 characters (shorter ones match almost every title)."
    if errors:
        raise ValidationError(errors)
    return replace(criteria, name=criteria.name.strip(), words=words, image_hash=image_hash)


def _settled_top(now: datetime | None = None) -> int:
    """The largest listing id created at least SETTLE ago (walks the id index back over the newest only)."""
    cutoff = (now or timezone.now()) - SETTLE
    return Listing.objects.filter(created_at__lte=cutoff).order_by("-pk").values_list("pk", flat=True).first() or 0


def _audit_data(criteria: WatchCriteria) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Decimal) else value for name, value in asdict(criteria).items()}


def _set_digest(search: WatchSearch, actor: Any, digest: bool | None) -> None:
    if digest is True:
        search.subscribers.add(actor)
    elif digest is False:
        search.subscribers.remove(actor)


@transaction.atomic
def watch_search_create(*, brand: Any, actor: Any, criteria: WatchCriteria, digest: bool = True) -> WatchSearch:
    """Save a search; it matches listings that appear from now on. `digest`: the actor gets its e-mails."""
    criteria = criteria_clean(criteria)
    search = WatchSearch.objects.create(
        brand=brand, created_by=actor, last_listing_id=_settled_top(), **asdict(criteria)
    )
    _set_digest(search, actor, digest)
    audit_record(action="watch.create", target=search, actor=actor, brand_id=brand.pk, data=_audit_data(criteria))
    return search


@transaction.atomic
def watch_search_update(
    *, search: WatchSearch, actor: Any, criteria: WatchCriteria, digest: bool | None = None
) -> WatchSearch:
    """Change a search. Matches already found stay; a search switched back on starts from now (what appeared
    while it was off is not looked at)."""
    criteria = criteria_clean(criteria)
    search = WatchSearch.objects.select_for_update().get(pk=search.pk)
    was_active = search.active
    for name, value in asdict(criteria).items():
        setattr(search, name, value)
    if search.active and not was_active:
        search.last_listing_id = max(search.last_listing_id, _settled_top())
    search.save()
    _set_digest(search, actor, digest)
    audit_record(
        action="watch.update", target=search, actor=actor, brand_id=search.brand_id, data=_audit_data(criteria)
    )
    return search


@transaction.atomic
def watch_search_delete(*, search: WatchSearch, actor: Any) -> None:
    """Delete a search and its matches (cases filed from them stay)."""
    search = WatchSearch.objects.select_for_update().get(pk=search.pk)
    audit_record(
        action="watch.delete",
        target=search,
        actor=actor,
        brand_id=search.brand_id,
        data=_audit_data(WatchCriteria.of(search)),
    )
    search.delete()


@transaction.atomic
def watch_digest_subscribe(*, search: WatchSearch, actor: Any, digest: bool) -> None:
    """The actor starts or stops getting the daily digest of the search (any member may, viewers too)."""
    _set_digest(search, actor, digest)
    audit_record(action="watch.digest", target=search, actor=actor, brand_id=search.brand_id, data={"digest": digest})


# --- matching -------------------------------------------------------------------------------------


class _HammingDistance(Func):
    """bit_count(a # b): the Hamming distance of two bit(256) hashes."""

    template = "bit_count(%(expressions)s)"
    arg_joiner = " # "
    output_field = models.IntegerField()


def words_conditions(words: str) -> list[Contains]:
    """Each word in the title, any case: `UPPER(title) LIKE '%WORD%'`, which the trigram GIN index on
    UPPER(title) (`listing_title_trgm`) answers."""
    return [Contains(Upper("title"), word.upper()) for word in words.split()]


def watch_candidates_query(search: WatchSearch, low: int, high: int) -> models.QuerySet[Listing]:
    """The active listings with an id in (low, high] that meet every criterion of the search, by id; with
    `image_distance` (the nearest of the listing's images) when the search has an image hash."""
    listings = Listing.objects.filter(pk__gt=low, pk__lte=high, status=ListingStatus.ACTIVE)
    if search.marketplace_id is not None:
        listings = listings.filter(marketplace_id=search.marketplace_id)
    if search.seller_id is not None:
        listings = listings.filter(seller_id=search.seller_id)
    if search.price_min is not None:
        listings = listings.filter(price__gte=search.price_min)
    if search.price_max is not None:
        listings = listings.filter(price__lte=search.price_max)
    listings = listings.filter(*words_conditions(search.words))
    if search.image_hash:
        probe = RawSQL("%s::bit(256)", [hashing.to_bits(search.image_hash)])
        nearest = (
            ListingImageHash.objects.filter(listing_id=OuterRef("pk"))
            .annotate(distance=_HammingDistance(F("hash"), probe))
            .order_by("distance")
            .values("distance")[:1]
        )
        listings = listings.annotate(image_distance=Subquery(nearest)).filter(image_distance__lte=hashing.MAX_DISTANCE)
    return listings.order_by("pk")


def _candidates(search: WatchSearch, low: int, high: int, limit: int) -> list[tuple[int, int | None]]:
    """(listing id, image distance) of the first `limit` listings of the range that match."""
    listings = watch_candidates_query(search, low, high)
    if search.image_hash:
        return list(listings.values_list("pk", "image_distance")[:limit])
    return [(pk, None) for pk in listings.values_list("pk", flat=True)[:limit]]


def _signals(search: WatchSearch, distance: int | None) -> dict[str, Any]:
    matched = [
        name
        for name, present in (
            ("words", bool(search.words)),
            ("image", bool(search.image_hash)),
            ("marketplace", search.marketplace_id is not None),
            ("seller", search.seller_id is not None),
            ("price", search.price_min is not None or search.price_max is not None),
        )
        if present
    ]
    return {"matched": matched, "image_distance": distance}


def watch_search_run(*, search_id: int, now: datetime | None = None) -> list[int]:
    """Match the listings that appeared since the search's last run; returns the new matches' ids.

    Skips a search another run holds, or one switched off. Idempotent: the high-water mark moves in the
    transaction that writes the matches, and (search, listing) is unique."""
    now = now or timezone.now()
    with transaction.atomic():
        search = WatchSearch.objects.select_for_update(skip_locked=True).filter(pk=search_id, active=True).first()
        if search is None:
            return []
        top = _settled_top(now)
        found: list[tuple[int, int | None]] = []
        low = search.last_listing_id
        while low < top and len(found) <= MATCH_CAP:
            high = min(low + RUN_STEP, top)
            found += _candidates(search, low, high, MATCH_CAP + 1 - len(found))
            low = high
        capped = len(found) > MATCH_CAP
        found = found[:MATCH_CAP]
        known = set(
            WatchMatch.objects.filter(search=search, listing_id__in=[pk for pk, _ in found]).values_list(
                "listing_id", flat=True
            )
        )
        matches = WatchMatch.objects.bulk_create(
            WatchMatch(brand_id=search.brand_id, search=search, listing_id=pk, signals=_signals(search, distance))
            for pk, distance in found
            if pk not in known
        )
        search.last_listing_id = max(search.last_listing_id, top)
        search.last_run_at, search.last_run_capped = now, capped
        search.save(update_fields=["last_listing_id", "last_run_at", "last_run_capped"])
        if matches and search.notify_webhook:
            publish(WATCH_MATCHED, _with_listing(matches))
        return [m.pk for m in matches]


def _with_listing(matches: list[WatchMatch]) -> list[WatchMatch]:
    return list(
        WatchMatch.objects.filter(pk__in=[m.pk for m in matches]).select_related("listing", "search").order_by("pk")
    )


def watch_searches_due(*, now: datetime | None = None) -> list[int]:
    """Active searches not run for `WATCH_RUN_EVERY` (or never), oldest run first."""
    now = now or timezone.now()
    every = timedelta(seconds=settings.MARKETSAFE["WATCH_RUN_EVERY_SECONDS"])
    return list(
        WatchSearch.objects.active()
        .filter(models.Q(last_run_at__isnull=True) | models.Q(last_run_at__lte=now - every + timedelta(seconds=30)))
        .order_by(F("last_run_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)
    )


def watch_searches_run(*, search_ids: Iterable[int]) -> int:
    """Run each search in its own transaction; returns the number of new matches."""
    return sum(len(watch_search_run(search_id=pk)) for pk in search_ids)


# --- the brand's decisions --------------------------------------------------------------------------


@transaction.atomic
def watch_matches_set_state(*, brand: Any, match_ids: Iterable[int], state: str, actor: Any) -> int:
    """Mark the brand's matches seen, dismissed or new again; matches whose state does not allow it (a
    filed one) are left as they are. One audit event per match changed; returns how many changed."""
    allowed = STATE_ALLOWED_FROM.get(state)
    if allowed is None:
        raise ValidationError({"state": f"A match cannot be set to {state!r} here."})
    rows = list(
        WatchMatch.objects.for_brand(brand)
        .select_for_update()
        .filter(pk__in=list(match_ids), state__in=allowed)
        .values_list("pk", "state")
    )
    if not rows:
        return 0
    now = timezone.now()
    WatchMatch.objects.filter(pk__in=[pk for pk, _ in rows]).update(state=state, decided_by=actor, decided_at=now)
    audit_record_state_changes(
        action=f"watch_match.{state}",
        model=WatchMatch,
        changes=[(pk, old, state) for pk, old in rows],
        actor_id=actor.pk,
        brand_id=brand.pk,
    )
    return len(rows)


def _explanation(match: WatchMatch) -> str:
    search = match.search
    criteria = []
    if search.words:
        criteria.append(f"the words {search.words!r} in its title")
    if match.signals.get("image_distance") is not None:
        criteria.append(f"an image {match.signals['image_distance']} of 256 bits from the brand's product image")
    if search.price_min is not None or search.price_max is not None:
        criteria.append(f"a price between {search.price_min or 0} and {search.price_max or 'any'}")
    return (
        f"Found by the brand's watch search {search.name!r}: {', '.join(criteria) or 'its seller'}. "
        f"The listing offers goods under the brand's rights without its authorisation."
    )[:5000]


@transaction.atomic
def watch_match_file(*, match_id: int, actor: Any, ip_address: str | None = None) -> Case:
    """File the match as a new case of its brand in one click: the listing pre-filled, the brand's usable
    rights, reason "counterfeit", signed with the actor's name. The cases' rules apply (a usable right,
    evidence where the brand's lane needs it, the listing not already in an open case of the brand)."""
    match = WatchMatch.objects.select_for_update(of=("self",)).select_related("search", "listing").get(pk=match_id)
    if match.state not in FILE_ALLOWED_FROM:
        raise MatchAlreadyFiled(f"This match is already {match.get_state_display().lower()}.")
    rights = tuple(IPRight.objects.for_brand(match.brand_id).usable().values_list("pk", flat=True))
    request = FilingRequest(
        brand_id=match.brand_id,
        actor_id=actor.pk,
        reason_code=ReasonCode.COUNTERFEIT,
        explanation=_explanation(match),
        right_ids=rights,
        signed_name=actor.get_full_name() or actor.get_username(),
        ip_address=ip_address,
        listings=(ListingRow(url=match.listing.url, note=f"Brand watch: {match.search.name}"[:500]),),
        channel=Channel.WEB,
        idempotency_key=f"watch-match-{match.pk}",
    )
    case = case_submit(request=request)
    old = match.state
    match.state, match.decided_by, match.decided_at, match.filed_case = S.FILED, actor, timezone.now(), case
    match.save(update_fields=["state", "decided_by", "decided_at", "filed_case"])
    audit_record(
        action="watch_match.file",
        target=match,
        actor=actor,
        from_state=old,
        to_state=S.FILED,
        brand_id=match.brand_id,
        data={"case": case.pk},
    )
    return case


# --- the daily digest -------------------------------------------------------------------------------


def watch_digest_send(*, brand_id: int, now: datetime | None = None) -> int:
    """E-mail each subscriber of the brand's searches the matches found since the last digest, once per
    brand and day; returns the number of e-mails written (0 when today's digest was sent already)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    try:
        with transaction.atomic():
            digest = WatchDigest.objects.create(brand_id=brand_id, day=day)
            undigested = WatchMatch.objects.for_brand(brand_id).filter(digested_at__isnull=True)
            # Matches the brand already handled on the page are not news; they are marked digested too.
            matches = list(
                undigested.filter(state=S.NEW)
                .select_for_update(of=("self",))
                .select_related("search", "listing__marketplace", "listing__seller", "brand")
                .order_by("search_id", "pk")
            )
            if not matches:
                transaction.set_rollback(True)
                return 0
            by_search: dict[int, list[WatchMatch]] = defaultdict(list)
            for match in matches:
                by_search[match.search_id].append(match)
            members = set(
                BrandMembership.objects.filter(brand_id=brand_id, is_active=True).values_list("user_id", flat=True)
            )
            recipients: dict[int, tuple[str, list[int]]] = {}
            through = WatchSearch.subscribers.through.objects.filter(watchsearch_id__in=by_search, user_id__in=members)
            for user_id, email, search_id in through.values_list("user_id", "user__email", "watchsearch_id"):
                if email:
                    recipients.setdefault(user_id, (email, []))[1].append(search_id)
            brand = matches[0].brand
            portal = settings.MARKETSAFE["PORTAL_URL"].rstrip("/")
            for email, search_ids in recipients.values():
                sections = [
                    {
                        "search": by_search[pk][0].search,
                        "matches": by_search[pk][:DIGEST_PER_SEARCH],
                        "more": max(0, len(by_search[pk]) - DIGEST_PER_SEARCH),
                        "url": portal
                        + reverse("detection:watch_match_list", kwargs={"brand_slug": brand.slug})
                        + f"?search={pk}",
                    }
                    for pk in sorted(search_ids)
                ]
                total = sum(len(by_search[pk]) for pk in search_ids)
                context = {"brand": brand, "sections": sections, "total": total, "day": day}
                mail_on_commit(
                    subject=f"MarketSafe: {total} new brand watch match{'es' if total != 1 else ''} for {brand.name}",
                    body=render_to_string("detection/watch/email/digest.txt", context),
                    recipients=[email],
                )
            undigested.update(digested_at=now)
            digest.matches, digest.recipients = len(matches), len(recipients)
            digest.save(update_fields=["matches", "recipients"])
            return len(recipients)
    except IntegrityError:  # today's digest of this brand exists (sent by an earlier or concurrent run)
        return 0


def watch_digests_send(*, now: datetime | None = None) -> int:
    """The daily digest of every brand with undigested matches; returns the number of e-mails written."""
    brand_ids = (
        WatchMatch.objects.filter(digested_at__isnull=True, state=S.NEW)
        .values_list("brand_id", flat=True)
        .distinct()
        .order_by()
    )
    return sum(watch_digest_send(brand_id=brand_id, now=now) for brand_id in list(brand_ids))
