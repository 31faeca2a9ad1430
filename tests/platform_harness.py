"""The tenancy matrix of the platform endpoints (marketplace systems, service tokens), the sibling of
tests/api_harness.py for brand endpoints.

Two marketplaces each get their own sellers, listings and reported items, decided by a moderator (so the
decisions feed and the DSA export have rows). For one endpoint (URL name and method) it checks:
- anonymous → 401 with a `Bearer` challenge;
- a brand user's API token (as `Token …` and as `Bearer …`) and a brand user's browser session → 401;
- the other marketplace's service token → 404 for the victim's ids (items, cases), nothing changed; for a
  read without ids, 200 with the caller's own data and none of the victim's; for a bulk write naming the
  victim's rows, refused (400) or written in the caller's marketplace only, the victim's rows unchanged;
- a guessed id (one that does not exist) → 404;
- the victim's own service token → the expected status (reads: with the victim's data);
- a revoked token → 401.

The decisions feed only serves committed transactions (`integrations.selectors`), so tests
using this harness run with `django_db(transaction=True)`.

Below the endpoints, the marketplace scope itself: for every marketplace-owned model
(`core.tenancy.marketplace_owned_models()`), `assert_marketplace_scope` builds a row in each of two
marketplaces and checks that `for_marketplace` finds each marketplace's row, once, and never the other's.
`platform_endpoints()` lists every route of the `platform-api` namespace, whatever its view class, for the
meta-test that wants a case for each.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from brands.api.services import token_create
from brands.choices import Role
from cases import services as case_services
from cases.models import Appeal, CaseItem, CounterNotice, StatementOfReasons
from integrations.services import service_token_create, service_token_revoke
from investigations.models import TestPurchase
from listings.models import Listing, Seller
from tests import factories
from tests.api_harness import service_client

_numbers = count(1)


@dataclass
class MarketplaceWorld:
    """A marketplace with a seller, listings reported by a brand, and decided items."""

    marketplace: Any
    brand: Any
    reporter: Any
    moderator: Any
    seller: Any
    items: list[Any] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.marketplace.hosts[0]

    def accepted_item(self) -> CaseItem:
        """A new reported listing of this marketplace, accepted by a moderator (a decision, a statement of
        reasons, open to a counter-notice and an appeal)."""
        return self.accepted_items(1)[0]

    def accepted_items(self, count: int) -> list[CaseItem]:
        """A new case reporting `count` listings of this marketplace, each accepted by a moderator."""
        listings = []
        for _ in range(count):
            number = next(_numbers)
            listings.append(
                factories.ListingFactory(
                    marketplace=self.marketplace,
                    seller=self.seller,
                    external_id=f"L{number}",
                    url=f"https://{self.host}/item/L{number}",
                )
            )
        case = case_services.case_submit(
            request=factories.filing_request(
                brand=self.brand,
                actor=self.reporter,
                rights=[factories.IPRightFactory(brand=self.brand)],
                listing_urls=[listing.url for listing in listings],
            )
        )
        items = list(case.items.order_by("pk"))
        for item in items:
            case_services.item_accept(item_id=item.pk, actor=self.moderator)
        self.items.extend(items)
        return items

    def markers(self) -> set[str]:
        """Strings only this marketplace's data holds, as they appear in JSON (quoted: no prefix matches)."""
        listings = Listing.objects.filter(marketplace=self.marketplace)
        statements = StatementOfReasons.objects.filter(item__listing__marketplace=self.marketplace)
        return (
            {f'"{url}"' for url in listings.values_list("url", flat=True)}
            | {f'"marketsafe-sor-{pk}"' for pk in statements.values_list("pk", flat=True)}
            | {f'"{self.seller.name}"'}
        )

    def state(self) -> tuple:
        """Everything a platform call could change in this marketplace."""
        scope = {"item__listing__marketplace": self.marketplace}
        return (
            list(Seller.objects.filter(marketplace=self.marketplace).order_by("pk").values_list()),
            list(Listing.objects.filter(marketplace=self.marketplace).order_by("pk").values_list()),
            list(
                CaseItem.objects.filter(listing__marketplace=self.marketplace)
                .order_by("pk")
                .values_list("pk", "status")
            ),
            CounterNotice.objects.filter(**scope).count(),
            Appeal.objects.filter(**scope).count(),
            list(
                TestPurchase.objects.filter(listing__marketplace=self.marketplace)
                .order_by("pk")
                .values_list("pk", "order_confirmation")
            ),
        )


def marketplace_world(tag: str) -> MarketplaceWorld:
    marketplace = factories.MarketplaceFactory(name=f"Market {tag}", slug=f"market-{tag.lower()}-{next(_numbers)}")
    brand = factories.BrandFactory()
    world = MarketplaceWorld(
        marketplace=marketplace,
        brand=brand,
        reporter=factories.MembershipFactory(brand=brand, role=Role.REPORTER).user,
        moderator=factories.UserFactory(is_staff=True),
        seller=factories.SellerFactory(marketplace=marketplace, name=f"SELLER-{tag}-{next(_numbers)}"),
    )
    item = world.accepted_item()
    # A test purchase of the brand on the reported listing, whose order waits for the marketplace's answer.
    TestPurchase.objects.create(
        brand=brand,
        listing=item.listing,
        seller=world.seller,
        order_id=f"ORDER-{tag}-{next(_numbers)}",
        purchased_on=item.submitted_at.date(),
        recorded_by=world.reporter,
    )
    return world


@dataclass(frozen=True)
class PlatformTenancyCase:
    #: URL name under /api/v1/platform/ (e.g. "platform-api:item-appeal").
    url_name: str
    method: str = "get"
    #: make(world) → URL kwargs naming one of the world's objects, fresh for every call ({} for collections).
    make: Callable[[MarketplaceWorld], dict[str, Any]] = lambda world: {}
    #: body(world) → the request body; for bulk writes it names the world's own rows.
    body: Callable[[MarketplaceWorld], dict[str, Any]] = lambda world: {}
    success: int = 200

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url_name}"

    def call(self, client: APIClient, url: str, world: MarketplaceWorld) -> Any:
        if self.method == "get":
            return client.get(url, self.body(world))
        return getattr(client, self.method)(url, self.body(world), format="json")


def assert_platform_tenant_matrix(case: PlatformTenancyCase) -> None:
    victim, attacker = marketplace_world("VICTIM"), marketplace_world("ATTACKER")
    kwargs = case.make(victim)
    url = reverse(case.url_name, kwargs=kwargs)
    is_read = case.method == "get" and not kwargs
    before = victim.state()

    anonymous = case.call(APIClient(), url, victim)
    assert anonymous.status_code == 401, f"{case}: anonymous got {anonymous.status_code}"
    assert anonymous["WWW-Authenticate"].startswith("Bearer")

    owner = factories.MembershipFactory(brand=victim.brand, role=Role.OWNER)
    _, secret = token_create(membership=owner, actor=owner.user, name="harness")
    brand_token, as_bearer = APIClient(), APIClient()
    brand_token.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    as_bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    session = APIClient()
    session.force_login(owner.user)
    for who, client in (("a brand token", brand_token), ("a brand token as Bearer", as_bearer), ("a session", session)):
        response = case.call(client, url, victim)
        assert response.status_code == 401, f"{case}: {who} got {response.status_code}"

    foreign = case.call(service_client(attacker.marketplace), url, victim)
    if is_read:
        assert foreign.status_code == 200, f"{case}: the other marketplace got {foreign.status_code}"
        text = foreign.content.decode()
        leaked = sorted(marker for marker in victim.markers() if marker in text)
        assert not leaked, f"{case}: the other marketplace sees the victim's {leaked}"
        assert any(marker in text for marker in attacker.markers()), f"{case}: the caller's own data is missing"
    elif kwargs:
        assert foreign.status_code == 404, f"{case}: the other marketplace got {foreign.status_code}"
    else:  # a bulk write naming the victim's rows: refused, or written in the caller's own marketplace
        assert foreign.status_code in (case.success, 400), f"{case}: the other marketplace got {foreign.status_code}"
    assert victim.state() == before, f"{case}: the other marketplace's call changed the victim's data"

    if kwargs:
        guessed = {name: value + 10_000_000 for name, value in kwargs.items()}
        response = case.call(service_client(victim.marketplace), reverse(case.url_name, kwargs=guessed), victim)
        assert response.status_code == 404, f"{case}: a guessed id got {response.status_code}"

    own = case.call(service_client(victim.marketplace), url, victim)
    assert own.status_code == case.success, f"{case}: the own marketplace got {own.status_code}: {own.content[:500]!r}"
    if is_read:
        assert any(marker in own.content.decode() for marker in victim.markers()), f"{case}: own data missing"

    row, raw = service_token_create(marketplace=victim.marketplace, name="revoked", actor=None)
    service_token_revoke(token_id=row.pk, actor=None)
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    fresh_url = reverse(case.url_name, kwargs=case.make(victim)) if kwargs and case.method != "get" else url
    response = case.call(revoked, fresh_url, victim)
    assert response.status_code == 401, f"{case}: a revoked token got {response.status_code}"


def platform_endpoints(resolver: URLResolver | None = None, inside: bool = False) -> set[tuple[str, str]]:
    """(URL name, method) of every route of the `platform-api` namespace, whatever view serves it."""
    found = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            found |= platform_endpoints(pattern, inside or pattern.namespace == "platform-api")
        elif inside and isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            methods = {
                method
                for method in getattr(view_class, "http_method_names", ["get", "post"])
                if method not in {"head", "options"} and hasattr(view_class, method)
            }
            found |= {(f"platform-api:{pattern.name}", method) for method in methods}
    return found


@dataclass(frozen=True)
class MarketplaceScopeCase:
    """A marketplace-owned model and how to make one of its rows in a world's marketplace."""

    model: type
    #: make(world) → a new row of `model` belonging to the world's marketplace.
    make: Callable[[MarketplaceWorld], Any]

    def __str__(self) -> str:
        return self.model._meta.label


def assert_marketplace_scope(case: MarketplaceScopeCase) -> None:
    victim, attacker = marketplace_world("VICTIM"), marketplace_world("ATTACKER")
    rows = {world.marketplace.pk: case.make(world) for world in (victim, attacker)}
    for model_row in rows.values():
        assert isinstance(model_row, case.model), f"{case}: make() returned {model_row!r}"
    for world, other in ((victim, attacker), (attacker, victim)):
        own, foreign = rows[world.marketplace.pk], rows[other.marketplace.pk]
        for scope in (world.marketplace, world.marketplace.pk):  # an instance or its id
            scoped = case.model.objects.for_marketplace(scope)
            assert list(scoped.filter(pk=own.pk).values_list("pk", flat=True)) == [own.pk], (
                f"{case}: for_marketplace does not find its own row once"
            )
            assert not scoped.filter(pk=foreign.pk).exists(), f"{case}: for_marketplace finds another marketplace's row"
    assert not case.model.objects.for_marketplace(None).exists(), f"{case}: for_marketplace(None) finds rows"
