"""The tenancy matrix, reusable for any brand view or API endpoint.

For one URL it checks, in order:
- anonymous → redirected to the login page (pages) or 401/403 (API);
- a member of another brand → 404, both at the victim brand's URL and, for object URLs, with the
  victim's object id under their own brand's slug (a guessed id is as unknown as a guessed brand);
- every role that lacks the capability → 403;
- every role that has it → the expected success status, and for a write its declared effect: the saved
  object re-read from the database (`Saved`, `Deleted`, or `Unchanged` for a form refused in place) and
  the one audit event written for it (`Audited`), as NetBox's `EditObjectViewTestCase` checks the
  instance and its change record;
- no refused request (anonymous, outsider, missing role, former member) writes an audit event.

tests/test_tenancy.py's meta-test requires every write case with an allowed role to declare its effect.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import reverse

from brands.choices import Role
from core.audit.models import AuditEvent
from tests import factories


@dataclass(frozen=True)
class Write:
    """One allowed role's successful write, as the effect declarations see it."""

    brand: Any
    #: The member who made the request (the audit event's actor).
    user: Any
    #: The URL kwargs `make` returned (the object the URL names is `kwargs["pk"]`).
    kwargs: dict[str, Any]


# Expected values in `Saved.fields` may be callables of the `Write`; these two name the usual ones.


def ACTOR(write: Write) -> Any:
    return write.user


def BRAND(write: Write) -> Any:
    return write.brand


class _IsSet:
    """Matches any value but None (a timestamp the write sets to "now")."""

    def __eq__(self, other: object) -> bool:
        return other is not None

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "SET"


SET = _IsSet()


def url_object(model: type[models.Model], kwarg: str = "pk") -> Callable[[Write], models.Model]:
    """The object of `model` the URL names (e.g. the right a document is added to)."""
    return lambda write: model.objects.get(pk=write.kwargs[kwarg])


def _expected(value: Any, write: Write) -> Any:
    return value(write) if callable(value) else value


def _read(obj: models.Model, path: str) -> Any:
    for name in path.split("__"):
        obj = getattr(obj, name)
    return obj


@dataclass(frozen=True)
class Saved:
    """The write saved a row of `model` with these `fields` (`a__b` follows relations).

    The row is the object the URL names (its `pk`) when `model` is the case's model, unless `created`;
    otherwise the one row of `model` the request created.
    """

    model: type[models.Model]
    fields: dict[str, Any] = field(default_factory=dict)
    #: The row is a new one, although the URL names an object (e.g. a document added to a right).
    created: bool = False

    def find(self, case: "TenancyCase", write: Write, before: set) -> models.Model:
        if self.model is case.model and "pk" in write.kwargs and not self.created:
            return self.model.objects.get(pk=write.kwargs["pk"])
        created = list(self.model.objects.exclude(pk__in=before))
        assert len(created) == 1, f"{case}: expected one new {self.model.__name__}, found {len(created)}"
        return created[0]

    def check(self, case: "TenancyCase", write: Write, before: set) -> models.Model:
        obj = self.find(case, write, before)
        for path, value in self.fields.items():
            expected, actual = _expected(value, write), _read(obj, path)
            assert expected == actual, f"{case}: saved {self.model.__name__}.{path} is {actual!r}, not {expected!r}"
        return obj


@dataclass(frozen=True)
class Deleted:
    """The write deleted the object of `model` the URL names."""

    model: type[models.Model]

    def check(self, case: "TenancyCase", write: Write, before: set) -> models.Model:
        pk = write.kwargs["pk"]
        assert not self.model.objects.filter(pk=pk).exists(), f"{case}: {self.model.__name__} #{pk} still exists"
        return self.model(pk=pk)  # the audit event's target


@dataclass(frozen=True)
class Unchanged:
    """A POST the view answers in place (a form with errors): no row of `model` and no audit event."""

    model: type[models.Model]
    why: str

    def check(self, case: "TenancyCase", write: Write, before: set) -> None:
        assert not self.model.objects.exclude(pk__in=before).exists(), f"{case}: a {self.model.__name__} was saved"


@dataclass(frozen=True)
class Audited:
    """The one audit event the write recorded: its action, actor (the member), target and brand, and the
    states and reason where given. The target is the saved object unless `target(write)` names another."""

    action: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    target: Callable[[Write], models.Model] | None = None

    def check(self, case: "TenancyCase", write: Write, saved: models.Model, before: int) -> None:
        target = self.target(write) if self.target else saved
        events = AuditEvent.objects.filter(
            pk__gt=before,
            action=self.action,
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=True),
            target_id=target.pk,
        )
        recorded = list(AuditEvent.objects.filter(pk__gt=before).values_list("action", "target_id"))
        assert len(events) == 1, f"{case}: expected one {self.action} event on {target!r}, recorded {recorded}"
        (event,) = events
        expected = {"actor": write.user, "brand_id": write.brand.pk} | {
            name: value for name in ("from_state", "to_state", "reason") if (value := getattr(self, name)) is not None
        }
        actual = {name: getattr(event, name) for name in expected}
        assert actual == expected, f"{case}: the {self.action} event recorded {actual}, expected {expected}"


Effect = Saved | Deleted | Unchanged


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
    #: What an allowed role's write leaves in the database (required of every write an allowed role makes).
    saved: Effect | None = None
    #: The audit event that write records (required with `Saved` and `Deleted`).
    audited: Audited | None = None

    def __str__(self) -> str:
        return self.url_name

    @property
    def is_write(self) -> bool:
        """A write some role is allowed to make: it must declare its effect."""
        return self.method != "get" and bool(self.allowed_roles)

    def declaration_problem(self) -> str | None:
        """Why the case's effect declaration is incomplete, or None (the meta-test's check)."""
        if not self.is_write:
            return None
        if self.saved is None:
            return "declares no `saved` effect"
        if isinstance(self.saved, Unchanged) != (self.audited is None):
            return "needs `audited` with Saved/Deleted, and none with Unchanged"
        return None


def owners_post(url_name: str, model: type, **options: Any) -> TenancyCase:
    """A write only owners may make, answered with a redirect: the brand pages' usual write case."""
    return TenancyCase(
        url_name, model=model, allowed_roles=frozenset({Role.OWNER}), method="post", success=302, **options
    )


def _request(client: Client, case: TenancyCase, url: str):
    return getattr(client, case.method)(url, case.data)


def _last_pk(model: type[models.Model]) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _assert_effect(case: TenancyCase, write: Write, client: Client, url: str) -> Any:
    """Make the write and check what it saved and audited."""
    problem = case.declaration_problem()
    assert problem is None, f"{case}: {problem}"
    assert case.saved is not None
    saved_before = set(case.saved.model.objects.values_list("pk", flat=True))
    audit_before = _last_pk(AuditEvent)
    response = _request(client, case, url)
    if response.status_code == case.success:
        saved = case.saved.check(case, write, saved_before)
        if case.audited is None:
            assert _last_pk(AuditEvent) == audit_before, f"{case}: a request that saved nothing wrote an audit event"
        else:
            case.audited.check(case, write, saved, audit_before)
    return response


def assert_tenant_matrix(case: TenancyCase, *, client_class: type = Client) -> None:
    victim = factories.BrandFactory()
    attacker_brand = factories.BrandFactory()
    creator = factories.MembershipFactory(brand=victim, role=Role.OWNER).user
    kwargs = case.make(victim, creator)
    url = reverse(case.url_name, kwargs={"brand_slug": victim.slug, **kwargs})
    audit_before = _last_pk(AuditEvent)

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
    assert _last_pk(AuditEvent) == audit_before, f"{case}: a refused request wrote an audit event"

    for role in Role.values:
        member = factories.MembershipFactory(brand=victim, role=role).user
        client = client_class()
        client.force_login(member)
        if case.method != "get":
            # A write changes its object: each role acts on a fresh one, so a refused role proves the refusal.
            kwargs = case.make(victim, creator)
            url = reverse(case.url_name, kwargs={"brand_slug": victim.slug, **kwargs})
        allowed = role in case.allowed_roles
        if allowed and case.is_write:
            write = Write(brand=victim, user=member, kwargs=kwargs)
            response = _assert_effect(case, write, client, url)
        else:
            audit_before = _last_pk(AuditEvent)
            response = _request(client, case, url)
            assert allowed or _last_pk(AuditEvent) == audit_before, f"{case}: the refused {role} wrote an audit event"
        expected = case.success if allowed else 403
        assert response.status_code == expected, f"{case}: {role} got {response.status_code}, expected {expected}"

    audit_before = _last_pk(AuditEvent)
    former = factories.MembershipFactory(brand=victim, role=Role.OWNER, is_active=False).user
    client = client_class()
    client.force_login(former)
    response = _request(client, case, url)
    assert response.status_code == 404, f"{case}: a former (inactive) member got {response.status_code}"
    assert _last_pk(AuditEvent) == audit_before, f"{case}: a former member's request wrote an audit event"
