"""`manage.py seed_demo`: the demo data every developer, reviewer and tester starts from, and optionally
millions of synthetic listings to try the portal at marketplace scale.

The demo set has two marketplaces, a MarketSafe member brand (Acme Leather, expedited lane) and a
non-member (Globex Watches, standard lane), a login for every role (listed in the README), verified,
pending and expired IP rights, sellers, listings, and cases whose items sit in every lifecycle status.

It is idempotent because `make run` runs it on every start. Rows are looked up by natural keys
(usernames, brand and marketplace slugs, registration numbers, seller external ids, listing URLs) and
created only when missing; users and their brand roles are reset to the documented ones so the demo
logins always work. Cases are filed through `case_submit` with fixed idempotency keys, and their items are
driven to their statuses through the real services (`cases.demo.drive_item_to`), audit events and strikes
included, only when the case is new. The demo set is one transaction: a failed run leaves nothing behind.
"""

import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from brands.choices import ApplicationStatus, IPRightKind, IPRightStatus, MembershipStatus, Role
from brands.models import Brand, BrandMembership, InformationRequest, IPRight, ProgramApplication, ProgramMembership
from cases.choices import ItemStatus, ReasonCode
from cases.demo import demo_evidence, drive_item_to
from cases.models import Case, CaseItem
from cases.services import FilingRequest, ListingRow, case_submit, evidence_staged
from core.accounts.models import User
from detection.demo import seed_watch
from detection.models import ReListingCandidate, RemovalFingerprint
from detection.services.candidates import candidates_file_strong
from detection.services.matching import listings_match
from integrations.models import ServiceToken
from integrations.services import TOKEN_PREFIX, token_hash
from investigations.demo import seed_test_purchases
from investigations.demo_networks import seed_networks
from listings import penalties
from listings.bulk import generate_listings
from listings.choices import SellerAccountType
from listings.models import Listing, Marketplace, Seller, Strike
from safeguards.demo import seed_safeguards

#: Development only: the command refuses to run in production mode without --force.
DEMO_PASSWORD = "marketsafe-demo"  # noqa: S105

MODERATORS = "Moderators"
MODERATION_LEADS = "Moderation leads"
ASSOCIATION_REVIEWERS = "Association reviewers"
QUALITY_AUDITORS = "Quality auditors"

S = ItemStatus


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    brands: tuple[tuple[str, str], ...] = ()
    group: str = ""
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS = (
    DemoUser(
        "owner",
        "Olivia",
        "Ortega",
        "Owner of Acme Leather (a MarketSafe member: expedited lane)",
        (("acme", Role.OWNER),),
    ),
    DemoUser(
        "reporter", "Rita", "Reyes", "Reporter of Acme Leather (files and answers notices)", (("acme", Role.REPORTER),)
    ),
    DemoUser("viewer", "Victor", "Vance", "Viewer of Acme Leather (read-only)", (("acme", Role.VIEWER),)),
    DemoUser(
        "agent",
        "Alex",
        "Archer",
        "Reporter in both Acme Leather and Globex Watches (a law firm acting for several brands)",
        (("acme", Role.REPORTER), ("globex", Role.REPORTER)),
    ),
    DemoUser(
        "globex", "Grace", "Gold", "Owner of Globex Watches (not a member: standard lane)", (("globex", Role.OWNER),)
    ),
    DemoUser("moderator", "Mona", "Moreau", "Marketplace moderator (admin console)", group=MODERATORS, is_staff=True),
    DemoUser(
        "lead", "Leo", "Lindqvist", "Moderation lead (also decides appeals)", group=MODERATION_LEADS, is_staff=True
    ),
    DemoUser(
        "reviewer",
        "Rosa",
        "Russo",
        "Association reviewer (program applications)",
        group=ASSOCIATION_REVIEWERS,
        is_staff=True,
    ),
    DemoUser(
        "auditor",
        "Aude",
        "Aubert",
        "Quality auditor (re-decides sampled items blind)",
        group=QUALITY_AUDITORS,
        is_staff=True,
    ),
    DemoUser("admin", "Ada", "Adams", "Superuser", is_staff=True, is_superuser=True),
)


@dataclass(frozen=True)
class DemoMarketplace:
    slug: str
    name: str
    host: str
    listing_id_pattern: str
    currency: str
    #: Demo listing URLs are https://<host><path><id prefix><number>.
    listing_path: str
    id_prefix: str
    first_number: int


MARKETPLACES = (
    DemoMarketplace("shopnow", "ShopNow", "shopnow.example", r"/item/(\w+)", "EUR", "/item/", "SN", 1001),
    DemoMarketplace("bazaarhub", "BazaarHub", "bazaarhub.example", r"/listing/(\d+)", "USD", "/listing/", "", 400001),
)

BRANDS = (
    ("acme", "Acme Leather", "Acme Leather Goods S.p.A.", "IT", "https://acme-leather.example"),
    ("globex", "Globex Watches", "Globex Watch Company SA", "CH", "https://globex-watches.example"),
)

#: (kind, name, office, registration number, Nice classes, status) of a demo IP right.
RightSpec = tuple[str, str, str, str, list[int], str]

#: brand slug → its IP rights.
RIGHTS: dict[str, tuple[RightSpec, ...]] = {
    "acme": (
        (IPRightKind.TRADEMARK, "ACME", "EUIPO", "018000101", [18, 25], IPRightStatus.VERIFIED),
        (IPRightKind.TRADEMARK, "ACME (figurative, crest logo)", "USPTO", "6100101", [18], IPRightStatus.VERIFIED),
        (IPRightKind.TRADEMARK, "ACME TRAVELLER", "EUIPO", "018000102", [18], IPRightStatus.PENDING),
        (IPRightKind.TRADEMARK, "ACME MILANO", "UKIPO", "UK00003000101", [18], IPRightStatus.EXPIRED),
        (IPRightKind.TRADEMARK, "ACME SPORT", "EUIPO", "018000103", [25], IPRightStatus.REJECTED),
    ),
    "globex": (
        (IPRightKind.TRADEMARK, "GLOBEX", "WIPO", "1500201", [14], IPRightStatus.VERIFIED),
        (IPRightKind.DESIGN, "GLOBEX Oceanic dial", "EUIPO", "008000201-0001", [], IPRightStatus.VERIFIED),
        (IPRightKind.TRADEMARK, "GLOBEX MERIDIAN", "USPTO", "6100201", [14], IPRightStatus.PENDING),
    ),
}

#: Why the demo's refused right was refused, as the brand reads it.
REFUSAL_REASON = "The certificate uploaded is for class 18, not class 25. Upload the class 25 registration certificate."

SELLER_NAMES = (
    ("LuxuryDeals88", "CN", SellerAccountType.BUSINESS),
    ("Bella Borse Outlet", "IT", SellerAccountType.BUSINESS),
    ("TimeKeepers HK", "HK", SellerAccountType.BUSINESS),
    ("SneakerVault", "US", SellerAccountType.BUSINESS),
    ("Golden Dragon Trading", "CN", SellerAccountType.BUSINESS),
    ("Urban Kicks", "DE", SellerAccountType.BUSINESS),
    ("marta.preloved", "PL", SellerAccountType.PRIVATE),
    ("WatchWorld Direct", "TR", SellerAccountType.BUSINESS),
    ("BagParadise", "TR", SellerAccountType.BUSINESS),
    ("jon_collects", "GB", SellerAccountType.PRIVATE),
)

#: (title, typical price): what the demo listings offer. Two colour variants of each make 60 listings.
ACME_GOODS = (
    ("ACME leather tote bag, AAA quality", "89.00"),
    ("Authentic ACME Milano crossbody bag, 70% off", "59.90"),
    ("ACME quilted shoulder bag 1:1 mirror copy", "120.00"),
    ("Vintage ACME weekender duffel, genuine leather", "310.00"),
    ("ACME bifold wallet with gift box", "25.00"),
    ("ACME monogram backpack, unisex", "75.50"),
    ("ACME reversible belt, all sizes", "19.99"),
    ("ACME mini bucket bag", "64.00"),
    ("ACME card holder, limited edition", "15.00"),
    ("ACME top-handle bag, factory outlet", "99.00"),
)
GLOBEX_GOODS = (
    ("GLOBEX Oceanic automatic diver watch 42mm", "149.00"),
    ("Globex Meridian chronograph, swiss movement", "199.00"),
    ("GLOBEX dress watch, sapphire glass, box and papers", "129.00"),
    ("Globex Oceanic homage watch, same dial", "45.00"),
    ("GLOBEX pilot watch, super AAA", "89.00"),
    ("Pre-owned Globex Meridian 2019, full set", "2450.00"),
    ("GLOBEX ladies watch, rose gold", "79.00"),
    ("Globex GMT master, 1:1 clone", "260.00"),
    ("GLOBEX steel bracelet replacement", "35.00"),
    ("Globex Oceanic diver, unworn", "1890.00"),
)
SNEAKERS = (
    ("Air cushion running sneakers", "49.99"),
    ("Retro high-top basketball sneakers", "69.00"),
    ("Canvas slip-on trainers", "24.50"),
    ("Trail running shoes, waterproof", "85.00"),
    ("Chunky dad sneakers", "59.00"),
    ("Leather court sneakers", "79.90"),
    ("Knit sock sneakers", "39.00"),
    ("Skate shoes, suede", "44.00"),
    ("Platform sneakers", "55.00"),
    ("Kids light-up sneakers", "29.99"),
)
COLOURS = ("black", "brown")


@dataclass(frozen=True)
class DemoListing:
    marketplace: DemoMarketplace
    external_id: str
    title: str
    price: str

    @property
    def url(self) -> str:
        return f"https://{self.marketplace.host}{self.marketplace.listing_path}{self.external_id}"


def demo_listings() -> dict[str, list[DemoListing]]:
    """brand slug (or "other") → its goods' demo listings, alternating between the marketplaces."""
    listings: dict[str, list[DemoListing]] = {}
    serial = 0
    for group, goods in (("acme", ACME_GOODS), ("globex", GLOBEX_GOODS), ("other", SNEAKERS)):
        for colour in COLOURS:
            for title, price in goods:
                marketplace = MARKETPLACES[serial % len(MARKETPLACES)]
                external_id = f"{marketplace.id_prefix}{marketplace.first_number + serial}"
                listings.setdefault(group, []).append(
                    DemoListing(marketplace, external_id, f"{title}, {colour}", price)
                )
                serial += 1
    return listings


@dataclass(frozen=True)
class DemoCase:
    key: str
    filed_by: str
    reason_code: str
    explanation: str
    statuses: tuple[str, ...]
    with_evidence: bool = False


#: brand slug → its demo cases. Together each brand's items cover every item status; the cases cover
#: every case status (received, in review, processed).
CASES = {
    "acme": (
        DemoCase(
            "demo-acme-1",
            "reporter",
            ReasonCode.COUNTERFEIT,
            "Counterfeit ACME bags: crest logo copied, sold at a fraction of retail.",
            (S.SUBMITTED, S.SUBMITTED),
        ),
        DemoCase(
            "demo-acme-2",
            "reporter",
            ReasonCode.COUNTERFEIT,
            "Replica ACME goods advertised as 'mirror copy' and 'AAA quality'.",
            (S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.ACCEPTED, S.REJECTED),
        ),
        DemoCase(
            "demo-acme-3",
            "agent",
            ReasonCode.COUNTERFEIT,
            "Test purchases confirmed counterfeit ACME bags (authentication report attached).",
            (S.COUNTER_NOTICED, S.UPHELD, S.REINSTATED, S.FINAL),
            with_evidence=True,
        ),
        DemoCase(
            "demo-acme-4",
            "owner",
            ReasonCode.TRADEMARK_TITLE,
            "The ACME word mark is used in titles of unrelated, unbranded goods.",
            (S.APPEALED, S.WITHDRAWN, S.FINAL),
        ),
    ),
    "globex": (
        DemoCase(
            "demo-globex-1",
            "globex",
            ReasonCode.COUNTERFEIT,
            "Counterfeit GLOBEX watches: fake dial and caseback engravings.",
            (S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED),
            with_evidence=True,
        ),
        DemoCase(
            "demo-globex-2",
            "agent",
            ReasonCode.COUNTERFEIT,
            "Replica GLOBEX watches sold as '1:1 clone' and 'super AAA'.",
            (S.ACCEPTED, S.REJECTED, S.COUNTER_NOTICED, S.UPHELD),
            with_evidence=True,
        ),
        DemoCase(
            "demo-globex-3",
            "globex",
            ReasonCode.DESIGN,
            "Watches copying the registered GLOBEX Oceanic dial design.",
            (S.REINSTATED, S.FINAL, S.APPEALED, S.WITHDRAWN),
            with_evidence=True,
        ),
    ),
}


class Command(BaseCommand):
    help = "Load the demo data (idempotent); with --listings N, also insert N synthetic listings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--listings", type=int, default=0, metavar="N", help="Also insert N synthetic listings (COPY)."
        )
        parser.add_argument(
            "--password", default=DEMO_PASSWORD, help=f"Password of every demo login (default: {DEMO_PASSWORD})."
        )
        parser.add_argument("--force", action="store_true", help="Run even when MARKETSAFE_ENV is production.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            raise CommandError("Refusing to load demo data and demo logins in production (use --force to insist).")
        if options["listings"] < 0:
            raise CommandError("--listings must be 0 or more.")
        with transaction.atomic():
            users = seed_users(password=options["password"])
            marketplaces = seed_marketplaces()
            seed_service_tokens(marketplaces, password=options["password"], actor=users["admin"])
            brands = seed_brands(users)
            # Before the cases: the demo's final removals give strikes the ladder acts on.
            penalties.penalty_policy_install_default(actor=users["admin"])
            seed_listings(marketplaces)
            new_cases = seed_cases(brands, users)
            # Risk rules in each mode with their hits, a finished backtest and this week's audit round.
            seed_safeguards(lead=users["lead"], auditor=users["auditor"], admin=users["admin"])
            relistings = seed_relistings()
            # Brand watch: Acme's saved search with the matches it found in the catalogue.
            watched = seed_watch(brand=brands["acme"], owner=users["owner"], reporter=users["reporter"])
            # Seller networks (issue 19): a ring of six sellers linked by identifiers and an image.
            ring = seed_networks(marketplace=marketplaces["shopnow"])
            # Test purchases of each brand: a counterfeit verdict filed as a notice, one waiting, one genuine.
            purchases = seed_test_purchases(brand=brands["acme"], user=users["reporter"], goods="acme")
            purchases += seed_test_purchases(brand=brands["globex"], user=users["globex"], goods="globex")
        self.stdout.write(
            f"Demo data loaded ({new_cases} new cases, {relistings} re-listings found, {watched} brand watch matches, "
            f"{purchases} test purchases, a seller network of {len(ring)})."
        )
        if options["listings"]:
            self.insert_listings(options["listings"], list(marketplaces.values()))
        self.print_summary(options["password"])

    def insert_listings(self, count: int, marketplaces: list[Marketplace]) -> None:
        self.stdout.write(f"Inserting {count:,} synthetic listings…")
        started = time.monotonic()
        inserted = generate_listings(count=count, marketplaces=marketplaces, stdout=self.stdout)
        elapsed = time.monotonic() - started
        rate = inserted / elapsed if elapsed else 0
        self.stdout.write(self.style.SUCCESS(f"Inserted {inserted:,} listings in {elapsed:.1f} s ({rate:,.0f} rows/s)"))

    def print_summary(self, password: str) -> None:
        write = self.stdout.write
        usernames = [user.username for user in DEMO_USERS]
        write(self.style.MIGRATE_HEADING("Summary"))
        write(f"  users: {User.objects.count()} (demo logins: {User.objects.filter(username__in=usernames).count()})")
        write(f"  brands: {Brand.objects.count()}, IP rights: {IPRight.objects.count()}")
        write(f"  marketplaces: {Marketplace.objects.count()}, sellers: {Seller.objects.count()}")
        write(f"  listings: {Listing.objects.count():,}, strikes: {Strike.objects.count()}")
        write(f"  cases: {Case.objects.count()}, items: {CaseItem.objects.count()}")
        by_brand: dict[str, Counter] = {}
        for row in CaseItem.objects.values("brand__slug", "status").annotate(n=Count("pk")):
            by_brand.setdefault(row["brand__slug"], Counter())[row["status"]] = row["n"]
        for slug, counts in sorted(by_brand.items()):
            statuses = ", ".join(f"{status} {counts[status]}" for status in ItemStatus.values if counts[status])
            write(f"  items of {slug}: {statuses}")
        shown = password if password == DEMO_PASSWORD else "the one given with --password"
        write(self.style.MIGRATE_HEADING(f"Demo logins (password: {shown})"))
        width = max(len(name) for name in usernames)
        for user in DEMO_USERS:
            write(f"  {user.username:<{width}}  {user.role}")
        write(self.style.MIGRATE_HEADING("Demo service tokens (platform API, Authorization: Bearer <token>)"))
        for spec in MARKETPLACES:
            write(f"  {spec.name}: {demo_service_token(spec.slug, password)}")


def seed_users(*, password: str) -> dict[str, User]:
    """The demo logins, reset to their documented names, flags, groups and password on every run."""
    users = {}
    for spec in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@example.test",
                "is_staff": spec.is_staff,
                "is_superuser": spec.is_superuser,
                "is_active": True,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        if spec.group:
            # Groups only by name here: their permissions are granted by a data migration.
            user.groups.add(Group.objects.get_or_create(name=spec.group)[0])
        users[spec.username] = user
    return users


def seed_marketplaces() -> dict[str, Marketplace]:
    marketplaces = {}
    for spec in MARKETPLACES:
        marketplaces[spec.slug], _ = Marketplace.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "hosts": [spec.host],
                "listing_id_pattern": spec.listing_id_pattern,
                "listing_url_example": f"https://{spec.host}{spec.listing_path}{spec.id_prefix}{spec.first_number}",
            },
        )
    return marketplaces


def demo_service_token(slug: str, password: str) -> str:
    """The demo token of a marketplace's system: derived from the demo password, so the README can name it
    (development only, like the demo logins; real tokens are random and shown once)."""
    return f"{TOKEN_PREFIX}demo{slug[:8]}_{password}"


def seed_service_tokens(marketplaces: dict[str, Marketplace], *, password: str, actor: User) -> None:
    for slug, marketplace in marketplaces.items():
        ServiceToken.objects.update_or_create(
            prefix=f"demo{slug[:8]}",
            defaults={
                "token_hash": token_hash(demo_service_token(slug, password)),
                "marketplace": marketplace,
                "name": f"{marketplace.name} catalogue sync (demo)",
                "created_by": actor,
            },
        )


def seed_brands(users: dict[str, User]) -> dict[str, Brand]:
    """The two brands with their team roles, IP rights and place in the MarketSafe program."""
    brands = {}
    for slug, name, legal_name, country, website in BRANDS:
        brands[slug], _ = Brand.objects.get_or_create(
            slug=slug, defaults={"name": name, "legal_name": legal_name, "country": country, "website": website}
        )
    for spec in DEMO_USERS:
        for slug, role in spec.brands:
            BrandMembership.objects.update_or_create(
                user=users[spec.username], brand=brands[slug], defaults={"role": role, "is_active": True}
            )
    for slug, rights in RIGHTS.items():
        seed_rights(brands[slug], rights, verifier=users["reviewer"])
    seed_acme_membership(brands["acme"], owner=users["owner"], reviewer=users["reviewer"])
    seed_globex_application(brands["globex"], owner=users["globex"], reviewer=users["reviewer"])
    return brands


def seed_rights(brand: Brand, rights: tuple[RightSpec, ...], *, verifier: User) -> None:
    now = timezone.now()
    today = timezone.localdate()
    for kind, name, office, number, classes, status in rights:
        # Registered ten years at a time: the expired one ran out a year ago, the others run for years.
        valid_from = today - timedelta(days=(11 if status == IPRightStatus.EXPIRED else 3) * 365)
        verified = status in {IPRightStatus.VERIFIED, IPRightStatus.EXPIRED}
        IPRight.objects.get_or_create(
            brand=brand,
            office=office,
            registration_number=number,
            defaults={
                "kind": kind,
                "name": name,
                "classes": classes,
                "owner_name": brand.legal_name,
                "valid_from": valid_from,
                "valid_until": valid_from + timedelta(days=10 * 365),
                "status": status,
                "verified_at": now - timedelta(days=200) if verified else None,
                "verified_by": verifier if verified else None,
                "decision_reason": REFUSAL_REASON if status == IPRightStatus.REJECTED else "",
            },
        )


def seed_acme_membership(brand: Brand, *, owner: User, reviewer: User) -> None:
    """An approved application and an active membership renewing in about a year: the expedited lane."""
    if ProgramApplication.objects.filter(brand=brand).exists():
        return
    now = timezone.now()
    application = ProgramApplication.objects.create(
        brand=brand,
        status=ApplicationStatus.APPROVED,
        company_name=brand.legal_name,
        association_member_number="IACC-1042",
        contact_name=owner.get_full_name(),
        contact_email=owner.email,
        enforcement_statement=(
            "Our brand protection team monitors marketplaces daily; every suspected listing is checked "
            "against our product database and, where needed, confirmed by a test purchase."
        ),
        attested_by=owner,
        attested_at=now - timedelta(days=60),
        created_by=owner,
        submitted_at=now - timedelta(days=60),
        decided_at=now - timedelta(days=45),
        decided_by=reviewer,
        decision_reason="Verified rights and a documented enforcement process.",
    )
    application.rights.set(IPRight.objects.for_brand(brand).usable())
    ProgramMembership.objects.create(
        brand=brand,
        application=application,
        status=MembershipStatus.ACTIVE,
        started_at=application.decided_at,
        renews_on=(application.decided_at + timedelta(days=365)).date(),
    )


def seed_globex_application(brand: Brand, *, owner: User, reviewer: User) -> None:
    """A submitted application waiting for the association, after a request for information the brand
    answered: Globex files in the standard lane meanwhile."""
    if ProgramApplication.objects.filter(brand=brand).exists():
        return
    now = timezone.now()
    application = ProgramApplication.objects.create(
        brand=brand,
        status=ApplicationStatus.SUBMITTED,
        company_name=brand.legal_name,
        contact_name=owner.get_full_name(),
        contact_email=owner.email,
        enforcement_statement="An external agency reports listings; we authenticate samples in our workshop.",
        attested_by=owner,
        attested_at=now - timedelta(days=3),
        created_by=owner,
        submitted_at=now - timedelta(days=3),
    )
    application.rights.set(IPRight.objects.for_brand(brand).usable())
    InformationRequest.objects.create(
        application=application,
        message="Which workshop authenticates your samples, and how long do you keep its reports?",
        requested_by=reviewer,
        requested_at=now - timedelta(days=2),
        response="Our own workshop in Geneva; reports are kept for five years.",
        responded_by=owner,
        responded_at=now - timedelta(days=1),
    )


def seed_listings(marketplaces: dict[str, Marketplace]) -> None:
    """Ten sellers per marketplace and sixty listings of bags, watches and sneakers."""
    sellers: dict[str, list[Seller]] = {}
    for slug, marketplace in marketplaces.items():
        sellers[slug] = [
            Seller.objects.get_or_create(
                marketplace=marketplace,
                external_id=f"{slug}-seller-{n:02d}",
                defaults={"name": name, "country": country, "account_type": account_type},
            )[0]
            for n, (name, country, account_type) in enumerate(SELLER_NAMES, start=1)
        ]
    every_listing = (listing for listings in demo_listings().values() for listing in listings)
    for n, listing in enumerate(every_listing):
        slug = listing.marketplace.slug
        Listing.objects.get_or_create(
            url=listing.url,
            defaults={
                "marketplace": marketplaces[slug],
                "seller": sellers[slug][n % len(SELLER_NAMES)],
                "external_id": listing.external_id,
                "title": listing.title,
                "price": Decimal(listing.price),
                "currency": listing.marketplace.currency,
            },
        )


def seed_relistings() -> int:
    """Stay-down detection's demo (issue 17): some final removals come back, reworded, one by the same
    seller (a strong match, filed automatically while the brand is in the expedited lane) and the others
    by another seller (waiting in the brand's "possible re-listings"). Matched here as the detection worker
    would after a platform upsert; returns the candidates created by this run."""
    new_ids = []
    for n, fingerprint in enumerate(
        RemovalFingerprint.objects.filter(enabled=True).select_related("listing").order_by("pk")[:3]
    ):
        removed = fingerprint.listing
        words = removed.title.split()
        seller = removed.seller
        if n and seller is not None:
            seller = Seller.objects.filter(marketplace=removed.marketplace_id).exclude(pk=seller.pk).first()
        listing, _ = Listing.objects.get_or_create(
            url=f"{removed.url.rstrip('/')}-relisted",
            defaults={
                "marketplace_id": removed.marketplace_id,
                "seller": seller,
                "title": " ".join([*words[:1], *reversed(words[1:])]),  # same words, another order
                "price": removed.price,
                "currency": removed.currency,
            },
        )
        new_ids.append(listing.pk)
    strong = listings_match(listing_ids=new_ids)
    candidates_file_strong(candidate_ids=strong)
    return ReListingCandidate.objects.filter(listing_id__in=new_ids).count()


def seed_cases(brands: dict[str, Brand], users: dict[str, User]) -> int:
    """File the demo cases and drive their items to their statuses; returns how many cases were new."""
    listings = demo_listings()
    new = 0
    for slug, cases in CASES.items():
        brand = brands[slug]
        rights = list(IPRight.objects.for_brand(brand).usable().order_by("pk"))
        urls = iter(listing.url for listing in listings[slug])
        for spec in cases:
            case_urls = [next(urls) for _ in spec.statuses]
            if Case.objects.filter(brand=brand, idempotency_key=spec.key).exists():
                continue
            filer = users[spec.filed_by]
            with evidence_staged([demo_evidence(f"{spec.key}.png")] if spec.with_evidence else []) as evidence:
                request = FilingRequest(
                    brand_id=brand.pk,
                    actor_id=filer.pk,
                    reason_code=spec.reason_code,
                    explanation=spec.explanation,
                    right_ids=tuple(right.pk for right in rights),
                    listings=tuple(ListingRow(url=url) for url in case_urls),
                    signed_name=filer.get_full_name(),
                    ip_address="192.0.2.10",
                    evidence=evidence,
                    idempotency_key=spec.key,
                )
                case = case_submit(request=request)
            new += 1
            items = {item.listing.url: item for item in case.items.select_related("listing")}
            for url, status in zip(case_urls, spec.statuses, strict=True):
                drive_item_to(items[url], status, moderator=users["moderator"], brand_user=filer)
    return new
