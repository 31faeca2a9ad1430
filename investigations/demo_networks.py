"""Demo data of seller networks (run by `seed_demo` after the cases and re-listings): a ring of six sellers on
the first demo marketplace, linked by a shared phone number, a shared payment account, a shared address and
an identical listing image. Two of them are demo sellers the Acme brand has reported, so Acme's "Seller
networks" page shows one linked to the other; the four new ones have three live listings each.

Six sellers (seven with the seller a demo re-listing links to one of Acme's): an action on this network
waits for a second moderation lead (`lead` asks, `admin` approves).
The identifiers are stored as the platform upsert stores them, hashed (their clear values are made up).
Idempotent: a second run adds nothing.
"""

from django.db.models import Count

from cases.models import CaseItem
from detection.services.hashes import listing_image_hashes_replace
from listings.choices import SellerAccountType
from listings.identifiers import identifier_digest, seller_identifiers_replace
from listings.models import Listing, Marketplace, Seller

#: (external id, name, country) of the ring's new accounts.
RING = (
    ("ring-lucky-star", "Lucky Star Trading", "CN"),
    ("ring-star-lucky", "Star Lucky Outlet", "CN"),
    ("ring-ls-global", "LS Global Store", "HK"),
    ("ring-bright-star", "Bright Star Deals", "HK"),
)
PHONE = "+86 20 5555 0101"
PAYMENT_ACCOUNT = "CN12 3456 7890 1234 5678"
ADDRESS = "Unit 5, 88 Harbour Road, Kowloon"
IMAGE_HASH = "f0e1d2c3b4a59687" * 4
LISTINGS_EACH = 3


def seed_networks(*, marketplace: Marketplace, brand_slug: str = "acme") -> list[Seller]:
    """Create (or find) the demo ring on `marketplace`; returns its sellers."""
    ring = [
        Seller.objects.get_or_create(
            marketplace=marketplace,
            external_id=external_id,
            defaults={"name": name, "country": country, "account_type": SellerAccountType.BUSINESS},
        )[0]
        for external_id, name, country in RING
    ]
    listings = {}
    for n, seller in enumerate(ring):
        for k in range(LISTINGS_EACH):
            external_id = f"RING{n}{k}"
            listings[(n, k)] = Listing.objects.get_or_create(
                url=f"https://{marketplace.hosts[0]}/item/{external_id}",
                defaults={
                    "marketplace": marketplace,
                    "seller": seller,
                    "external_id": external_id,
                    "title": f"Designer tote bag, premium quality ({seller.name})",
                },
            )[0]
    reported = list(
        CaseItem.objects.filter(brand__slug=brand_slug, listing__marketplace=marketplace, listing__seller__isnull=False)
        .values_list("listing__seller", flat=True)
        .annotate(n=Count("pk"))
        .order_by("-n", "listing__seller")[:2]
    )
    known = list(Seller.objects.filter(pk__in=reported).order_by("pk"))
    lucky, star, global_, bright = ring
    identifiers: dict[int, set[tuple[str, str]]] = {seller.pk: set() for seller in [*ring, *known]}

    def share(kind: str, value: str, *sellers: Seller) -> None:
        for seller in sellers:
            identifiers[seller.pk].add((kind, identifier_digest(kind, value)))

    share("phone", PHONE, lucky, star, global_)
    share("payment_account", PAYMENT_ACCOUNT, global_, bright)
    if len(known) == 2:
        share("address", ADDRESS, bright, *known)
    seller_identifiers_replace(digests_by_seller=identifiers)
    # An identical product photo on one of Lucky Star's listings and one of Bright Star's.
    listing_image_hashes_replace(
        hashes_by_listing={listings[(0, 0)].pk: [IMAGE_HASH], listings[(3, 0)].pk: [IMAGE_HASH]}
    )
    return [*ring, *known]
