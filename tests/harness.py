"""The tenancy matrix, reusable for any brand view or API endpoint.

For one URL it checks, in order:
- anonymous → redirected to the login page (pages) or 401/403 (API);
- a member of another brand → 404, both at the victim brand's URL and, for object URLs, with the
  victim's object id under their own brand's slug (a guessed id is as unknown as a guessed brand);
- every role that lacks the capability → 403;
- every role that has it → the expected success status.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.urls import reverse

from brands.choices import Role
from tests import factories


@dataclass(frozen=True)
class TenancyCase:
    #: URL name; the route takes `brand_slug` plus whatever `make` returns.
    url_name: str
    #: The brand-owned model the view exposes (the meta-test requires a case for each such view).
    model: type
    #: make(brand, user) creates the objects the URL points at and returns its other URL kwargs.
    make: Callable[[Any, Any], dict[str, Any]] = lambda brand, user: {}
    allowed_roles: frozenset[str] = frozenset(Role.values)
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)
    success: int = 200
    anonymous: tuple[int, ...] = (302,)

    def __str__(self) -> str:
        return self.url_name


def _request(client: Client, case: TenancyCase, url: str):
    return getattr(client, case.method)(url, case.data)


def assert_tenant_matrix(case: TenancyCase, *, client_class: type = Client) -> None:
    victim = factories.BrandFactory()
    attacker_brand = factories.BrandFactory()
    creator = factories.MembershipFactory(brand=victim, role=Role.OWNER).user
    kwargs = case.make(victim, creator)
    url = reverse(case.url_name, kwargs={"brand_slug": victim.slug, **kwargs})

    anonymous = _request(client_class(), case, url)
    assert anonymous.status_code in case.anonymous, f"{case}: anonymous got {anonymous.status_code}"
    if anonymous.status_code == 302:
        assert reverse("login") in anonymous["Location"]

    outsider = factories.MembershipFactory(brand=attacker_brand, role=Role.OWNER).user
    client = client_class()
    client.force_login(outsider)
    response = _request(client, case, url)
    assert response.status_code == 404, f"{case}: another brand's owner got {response.status_code}"
    if kwargs:
        guessed = reverse(case.url_name, kwargs={"brand_slug": attacker_brand.slug, **kwargs})
        response = _request(client, case, guessed)
        assert response.status_code == 404, f"{case}: a guessed id under the own brand got {response.status_code}"

    for role in Role.values:
        member = factories.MembershipFactory(brand=victim, role=role).user
        client = client_class()
        client.force_login(member)
        if case.method != "get":
            # A write changes its object: each role acts on a fresh one, so a refused role proves the refusal.
            url = reverse(case.url_name, kwargs={"brand_slug": victim.slug, **case.make(victim, creator)})
        response = _request(client, case, url)
        expected = case.success if role in case.allowed_roles else 403
        assert response.status_code == expected, f"{case}: {role} got {response.status_code}, expected {expected}"

    former = factories.MembershipFactory(brand=victim, role=Role.OWNER, is_active=False).user
    client = client_class()
    client.force_login(former)
    response = _request(client, case, url)
    assert response.status_code == 404, f"{case}: a former (inactive) member got {response.status_code}"
