"""Seller networks: the sellers linked to one seller, directly or through others, and why (issue 19).

Two sellers are linked (an edge) when they

- share an identifier the marketplace sent (address, phone, payment account, tax id: the same keyed hash
  in `listings.SellerIdentifier`, so the clear value is never needed nor shown);
- sell listings with an identical image hash (`detection.ListingImageHash`, exact equality of the PDQ hash);
- or one's listing is a re-listing of the other's removed listing (`detection.ReListingCandidate`, open or
  filed; a candidate the brand dismissed or withdrew links nothing).

A network is the connected component around a seller over those edges, found by a breadth-first search
that runs one SQL statement per depth (the frontier's edges, by index: identifiers by (kind, digest), image
hashes by hash, candidates by listing and by fingerprint), never loading all sellers. It stops at
NETWORK_MAX_DEPTH hops from the seller and at NETWORK_MAX_SELLERS sellers; a network cut short says so
(`truncated`), and the pages say so too. Each edge carries its reasons, with how many identifiers, images or
re-listings of each kind link the two.

The nodes' figures (status, active strikes, live listings) come from one more query.

A brand sees a network only as far as its own notices reach (`brand_seller_network`): of a seller its items
concern, the other sellers of the network its items also concern, and nothing else. The association sees
aggregates of the actions taken on networks (`network_action_figures`, in the program report).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from cases.models import CaseItem
from investigations.models import NetworkAction, NetworkActionKind, NetworkActionStatus
from listings.choices import SellerIdentifierKind
from listings.models import Listing, Seller, Strike

#: Why two sellers are linked, beside the identifier kinds: an identical image, a re-listing.
IMAGE = "image"
RELISTING = "relisting"
REASON_LABELS = {
    **dict(SellerIdentifierKind.choices),
    IMAGE: "Identical listing image",
    RELISTING: "Re-listing of a removed listing",
}

DEFAULT_MAX_DEPTH = 4
DEFAULT_MAX_SELLERS = 100

#: The edges of a frontier of sellers (%(frontier)s), each once per reason and pair: (seller, other,
#: reason, how many). Every branch starts from the frontier's rows through an index.
EDGES_SQL = """
SELECT * FROM (
SELECT a.seller_id, b.seller_id, a.kind, count(*)
FROM listings_selleridentifier AS a
JOIN listings_selleridentifier AS b ON b.kind = a.kind AND b.digest = a.digest AND b.seller_id <> a.seller_id
WHERE a.seller_id = ANY(%(frontier)s)
GROUP BY 1, 2, 3
UNION ALL
SELECT la.seller_id, lb.seller_id, 'image', count(DISTINCT ha.hash)
FROM listings_listing AS la
JOIN detection_listingimagehash AS ha ON ha.listing_id = la.id
JOIN detection_listingimagehash AS hb ON hb.hash = ha.hash AND hb.listing_id <> ha.listing_id
JOIN listings_listing AS lb ON lb.id = hb.listing_id
WHERE la.seller_id = ANY(%(frontier)s) AND lb.seller_id IS NOT NULL AND lb.seller_id <> la.seller_id
GROUP BY 1, 2
UNION ALL
SELECT l.seller_id, f.seller_id, 'relisting', count(*)
FROM listings_listing AS l
JOIN detection_relistingcandidate AS c ON c.listing_id = l.id
JOIN detection_removalfingerprint AS f ON f.id = c.fingerprint_id
WHERE l.seller_id = ANY(%(frontier)s) AND c.status = ANY(%(linking)s)
    AND f.seller_id IS NOT NULL AND f.seller_id <> l.seller_id
GROUP BY 1, 2
UNION ALL
SELECT f.seller_id, l.seller_id, 'relisting', count(*)
FROM detection_removalfingerprint AS f
JOIN detection_relistingcandidate AS c ON c.fingerprint_id = f.id
JOIN listings_listing AS l ON l.id = c.listing_id
WHERE f.seller_id = ANY(%(frontier)s) AND c.status = ANY(%(linking)s)
    AND l.seller_id IS NOT NULL AND l.seller_id <> f.seller_id
GROUP BY 1, 2
) AS edges LIMIT %(limit)s
"""
#: Edge rows one depth may read, per seller the search may still take: an identifier shared by thousands of
#: accounts (a marketplace's own warehouse address) cuts the search short instead of loading them all.
EDGE_ROWS_PER_SELLER = 20
#: Candidates that link their two sellers.
LINKING_CANDIDATES = ["open", "filed"]


@dataclass
class NetworkNode:
    seller: Seller
    depth: int
    active_strikes: int = 0
    live_listings: int = 0


@dataclass
class NetworkEdge:
    a: int
    b: int
    #: reason → how many identifiers (or images, re-listings) of that kind link the two sellers.
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [f"{REASON_LABELS[r]}{f' ({n})' if n > 1 else ''}" for r, n in sorted(self.reasons.items())]


@dataclass
class Network:
    root_id: int
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    max_depth: int
    max_sellers: int
    #: The search stopped at a cap: there may be more linked sellers than these.
    truncated: bool

    @property
    def seller_ids(self) -> list[int]:
        return [node.seller.pk for node in self.nodes]

    @property
    def live_listings(self) -> int:
        return sum(node.live_listings for node in self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)


def network_caps() -> tuple[int, int]:
    """(max depth, max sellers) of a network search, from settings."""
    rules = settings.MARKETSAFE
    return rules.get("NETWORK_MAX_DEPTH", DEFAULT_MAX_DEPTH), rules.get("NETWORK_MAX_SELLERS", DEFAULT_MAX_SELLERS)


def network_links(
    seller_id: int, *, max_depth: int, max_sellers: int
) -> tuple[dict[int, int], dict[frozenset, dict[str, int]], bool]:
    """The bounded search: ({seller id: depth}, {pair: reasons}, truncated). One query per depth."""
    depth_of = {seller_id: 0}
    pairs: dict[frozenset, dict[str, int]] = defaultdict(dict)
    frontier = [seller_id]
    truncated = False
    depth = 0
    with connection.cursor() as cursor:
        while frontier:
            limit = EDGE_ROWS_PER_SELLER * max_sellers
            cursor.execute(EDGES_SQL, {"frontier": frontier, "linking": LINKING_CANDIDATES, "limit": limit})
            rows = cursor.fetchall()
            truncated |= len(rows) >= limit
            found: list[int] = []
            for a, b, reason, count in rows:
                if b not in depth_of:
                    if depth >= max_depth or len(depth_of) >= max_sellers:
                        truncated = True
                        continue
                    depth_of[b] = depth + 1
                    found.append(b)
                pair = frozenset((a, b))
                # Each pair is seen from both ends (a → b at a's depth, b → a at b's): keep one count.
                pairs[pair][reason] = max(pairs[pair].get(reason, 0), count)
            frontier = sorted(set(found))
            depth += 1
    return depth_of, dict(pairs), truncated


def seller_network(seller_id: int, *, max_depth: int | None = None, max_sellers: int | None = None) -> Network:
    """The network around a seller (the seller alone when nothing links it), capped by the settings."""
    default_depth, default_sellers = network_caps()
    max_depth = default_depth if max_depth is None else max_depth
    max_sellers = default_sellers if max_sellers is None else max_sellers
    depth_of, pairs, truncated = network_links(seller_id, max_depth=max_depth, max_sellers=max_sellers)
    sellers = network_sellers(list(depth_of))
    nodes = sorted(
        (
            NetworkNode(seller, depth_of[seller.pk], seller.active_strike_count, seller.live_listing_count)
            for seller in sellers
        ),
        key=lambda node: (node.depth, node.seller.pk),
    )
    edges = [
        NetworkEdge(*sorted(pair), reasons=reasons)
        for pair, reasons in sorted(pairs.items(), key=lambda item: sorted(item[0]))
        if pair <= depth_of.keys()
    ]
    return Network(seller_id, nodes, edges, max_depth, max_sellers, truncated)


def network_sellers(seller_ids: list[int]) -> Any:
    """The sellers with their marketplace, active strikes and live listings (one query)."""
    strikes = (
        Strike.objects.filter(seller=OuterRef("pk"))
        .active()
        .order_by()
        .values("seller")
        .annotate(n=Count("pk"))
        .values("n")
    )
    live = (
        Listing.objects.filter(seller=OuterRef("pk"))
        .live()
        .order_by()
        .values("seller")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Seller.objects.filter(pk__in=seller_ids)
        .select_related("marketplace")
        .annotate(active_strike_count=Coalesce(Subquery(strikes), 0), live_listing_count=Coalesce(Subquery(live), 0))
    )


def network_live_listing_ids(seller_ids: list[int]) -> Any:
    """The live listings of the given sellers (what a network's delisting job removes)."""
    return Listing.objects.filter(seller_id__in=seller_ids).live().values_list("pk", flat=True)


# --- what a brand sees ----------------------------------------------------------------------------------

#: Sellers a brand's list of reported sellers shows.
BRAND_SELLERS_SHOWN = 50


@dataclass
class BrandLinkedSeller:
    seller: Seller
    items: int


@dataclass
class BrandNetworkView:
    """A network as far as one brand's own notices reach: the seller, and the other sellers of the network
    that the brand's items concern. Nothing else: no identifier, no reason, no seller it has not reported,
    not even how many there are."""

    seller: Seller
    items: int
    linked: list[BrandLinkedSeller]
    truncated: bool


def brand_reported_sellers(*, user: Any, brand: Any) -> list[BrandLinkedSeller]:
    """The sellers the brand's items concern most (its own items only), with how many items each."""
    counts = (
        CaseItem.objects.for_user(user, brand=brand)
        .filter(listing__seller__isnull=False)
        .values("listing__seller")
        .annotate(items=Count("pk"))
        .order_by("-items", "listing__seller")[:BRAND_SELLERS_SHOWN]
    )
    by_seller = {row["listing__seller"]: row["items"] for row in counts}
    sellers = Seller.objects.filter(pk__in=list(by_seller)).select_related("marketplace").in_bulk()
    return [BrandLinkedSeller(sellers[pk], items) for pk, items in by_seller.items()]


def brand_seller_network(*, user: Any, brand: Any, seller_id: int) -> BrandNetworkView:
    """The network of a seller the brand has reported, limited to the sellers its own items concern.

    Raises Seller.DoesNotExist for a seller none of the brand's items concern (another brand's, or none):
    pages answer 404, as for any row outside the brand."""
    items = CaseItem.objects.for_user(user, brand=brand)
    counts = dict(items.filter(listing__seller_id=seller_id).values_list("listing__seller").annotate(n=Count("pk")))
    if not counts:
        raise Seller.DoesNotExist
    network = seller_network(seller_id)
    others = [pk for pk in network.seller_ids if pk != seller_id]
    reported = dict(items.filter(listing__seller_id__in=others).values_list("listing__seller").annotate(n=Count("pk")))
    sellers = Seller.objects.filter(pk__in=[seller_id, *reported]).select_related("marketplace").in_bulk()
    linked = sorted(
        (BrandLinkedSeller(sellers[pk], n) for pk, n in reported.items()), key=lambda row: (-row.items, row.seller.pk)
    )
    return BrandNetworkView(sellers[seller_id], counts[seller_id], linked, network.truncated)


# --- what the association sees ----------------------------------------------------------------------------


@dataclass
class NetworkActionFigures:
    """Program-wide figures of actions on whole networks: counts and sizes only, no seller or brand."""

    executed: int
    suspensions: int
    delistings: int
    sellers: int
    largest: int | None
    pending: int


def network_action_figures() -> NetworkActionFigures:
    """One aggregate over the actions on networks (a small table: one row per action a moderator asked for)."""
    size = Func(F("seller_ids"), function="cardinality", output_field=IntegerField())
    executed = Q(status=NetworkActionStatus.EXECUTED)
    figures = NetworkAction.objects.aggregate(
        executed=Count("pk", filter=executed),
        suspensions=Count("pk", filter=executed & Q(kind=NetworkActionKind.SUSPEND)),
        delistings=Count("pk", filter=executed & Q(kind=NetworkActionKind.DELIST)),
        sellers=Coalesce(Sum(size, filter=executed), 0),
        largest=Max(size, filter=executed),
        pending=Count("pk", filter=Q(status=NetworkActionStatus.PENDING)),
    )
    return NetworkActionFigures(**figures)
