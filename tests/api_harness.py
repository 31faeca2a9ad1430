"""The tenancy matrix of the REST API, the sibling of tests/harness.py for brand endpoints.

For one endpoint (URL name and method) it checks, in order:
- anonymous → 401 with a `Token` challenge; a marketplace's service token → 401 (it opens the platform
  endpoints only);
- another brand's owner, with a token of their brand → 404 for the victim's object (or, for a list, the
  victim's rows absent; for a create, nothing created in the victim's brand);
- an agent who is an owner of the victim brand too, but calls with a token bound to their other brand →
  the same: the token's brand scopes the request, not the user;
- a guessed id (one that does not exist) → 404;
- a token of every role of the victim brand → the expected status, or 403 for roles without the capability;
- a token whose member was removed from the brand → 401 (the token died with the membership).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from brands.api.services import token_create
from brands.choices import Role
from integrations.services import service_token_create
from tests import factories


@dataclass(frozen=True)
class ApiTenancyCase:
    #: URL name under /api/v1/ (e.g. "cases-api:case-detail").
    url_name: str
    #: The brand-owned model the endpoint exposes or creates.
    model: type
    #: make(brand, user) creates what the URL points at and returns its URL kwargs ({} for collections).
    make: Callable[[Any, Any], dict[str, Any]] = lambda brand, user: {}
    allowed_roles: frozenset[str] = frozenset(Role.values)
    method: str = "get"
    #: body(brand, user) → the request body, rebuilt for each request (uploads are read once).
    body: Callable[[Any, Any], dict[str, Any]] = lambda brand, user: {}
    format: str = "json"
    success: int = 200
    #: Collections listed with GET: seed(brand, user) creates a row of `model` and returns its id, which must be
    #: listed for the brand's members and never for another brand.
    seed: Callable[[Any, Any], int] | None = None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url_name}"


def token_client(membership) -> APIClient:
    client = APIClient()
    _, secret = token_create(membership=membership, actor=membership.user, name="harness")
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def service_client(marketplace) -> APIClient:
    """A client with a fresh service token of the marketplace (the platform endpoints' credential)."""
    client = APIClient()
    _, secret = service_token_create(marketplace=marketplace, name="harness", actor=None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def api_endpoints(base: type, resolver: URLResolver | None = None, prefix: str = "") -> set[tuple[str, str]]:
    """(URL name, method) of every route served by a view class derived from `base`; the meta-tests compare
    them with the tenancy cases."""
    found = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            found |= api_endpoints(base, pattern, namespace)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class and issubclass(view_class, base):
                actions = getattr(pattern.callback, "actions", None) or {
                    method: method for method in view_class.http_method_names if hasattr(view_class, method)
                }
                methods = {method for method in actions if method not in {"head", "options"}}
                allowed = set(getattr(view_class, "http_method_names", methods))
                found |= {(f"{prefix}{pattern.name}", method) for method in methods & allowed}
    return found


def assert_every_endpoint_has_a_case(base: type, cases: list, where: str, at_least: int) -> None:
    """The meta-test: every route of a view derived from `base` has a tenancy case in `where`, and every
    case names a route that exists."""
    endpoints = api_endpoints(base)
    assert len(endpoints) >= at_least, f"the URL walk found too few endpoints: {endpoints}"
    covered = {(case.url_name, case.method) for case in cases}
    missing = sorted(endpoints - covered)
    assert not missing, f"endpoints without a tenancy case in {where}: {missing}"
    assert covered <= endpoints, f"tenancy cases of endpoints that do not exist: {sorted(covered - endpoints)}"


def call(client: APIClient, case: ApiTenancyCase, url: str, brand, user):
    body = case.body(brand, user)
    if case.method == "get":
        return client.get(url, body)
    return getattr(client, case.method)(url, body, format=case.format)


def _listed_ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def assert_api_tenant_matrix(case: ApiTenancyCase) -> None:
    victim = factories.BrandFactory()
    attacker_brand = factories.BrandFactory()
    creator = factories.MembershipFactory(brand=victim, role=Role.OWNER).user
    kwargs = case.make(victim, creator)
    seeded = case.seed(victim, creator) if case.seed else None
    url = reverse(case.url_name, kwargs=kwargs)
    is_list = case.method == "get" and not kwargs
    before = case.model.objects.for_brand(victim).count()

    anonymous = call(APIClient(), case, url, victim, creator)
    assert anonymous.status_code == 401, f"{case}: anonymous got {anonymous.status_code}"
    assert anonymous["WWW-Authenticate"] == "Token"
    service = call(service_client(factories.MarketplaceFactory()), case, url, victim, creator)
    assert service.status_code == 401, f"{case}: a marketplace's service token got {service.status_code}"

    outsider = factories.MembershipFactory(brand=attacker_brand, role=Role.OWNER)
    agent = factories.MembershipFactory(brand=attacker_brand, role=Role.OWNER)
    factories.MembershipFactory(brand=victim, user=agent.user, role=Role.OWNER)
    for who, membership in (("another brand's owner", outsider), ("an agent's token of another brand", agent)):
        # The body names the victim's objects (e.g. its rights): they must be unknown in the attacker's brand.
        response = call(token_client(membership), case, url, victim, creator)
        if is_list:
            assert response.status_code == 200, f"{case}: {who} got {response.status_code}"
            assert seeded not in _listed_ids(response), f"{case}: {who} sees the victim's row {seeded}"
        elif kwargs:
            assert response.status_code == 404, f"{case}: {who} got {response.status_code}"
        else:  # a create: it creates in the token's brand, or refuses the victim's related ids as unknown
            assert response.status_code in (case.success, 400), f"{case}: {who} got {response.status_code}"
        assert case.model.objects.for_brand(victim).count() == before, f"{case}: {who} created in the victim brand"

    if kwargs:
        guessed = {name: value + 10_000_000 if isinstance(value, int) else value for name, value in kwargs.items()}
        guessed_url = reverse(case.url_name, kwargs=guessed)
        response = call(token_client(outsider), case, guessed_url, victim, creator)
        assert response.status_code == 404, f"{case}: a guessed id got {response.status_code}"

    for role in Role.values:
        membership = factories.MembershipFactory(brand=victim, role=role)
        if case.method != "get" and kwargs:
            # A write changes its object: each role acts on a fresh one, so a refused role proves the refusal.
            url = reverse(case.url_name, kwargs=case.make(victim, creator))
        response = call(token_client(membership), case, url, victim, membership.user)
        expected = case.success if role in case.allowed_roles else 403
        assert response.status_code == expected, (
            f"{case}: {role} got {response.status_code}, expected {expected}: {response.content[:500]!r}"
        )
        if is_list and seeded is not None:
            assert seeded in _listed_ids(response), f"{case}: {role} does not see the brand's row {seeded}"

    former = factories.MembershipFactory(brand=victim, role=Role.OWNER)
    client = token_client(former)
    former.is_active = False
    former.save(update_fields=["is_active"])
    response = call(client, case, url, victim, former.user)
    assert response.status_code == 401, f"{case}: a former member's token got {response.status_code}"
