"""Tenant scoping: `for_user(user, brand=None)` on every brand-owned model.

Each test builds two brands with one row (or more) of every brand-owned model and checks, model by model,
which rows a user reads. The meta-test at the end fails when a model starts scoping by brand without being
covered here.
"""

from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.utils import timezone

from brands.api.models import ApiToken
from brands.api.services import token_create
from brands.choices import Role
from brands.models import (
    ApplicationDocument,
    Brand,
    BrandMembership,
    InformationRequest,
    Invitation,
    IPRight,
    IPRightDocument,
    ProgramApplication,
    ProgramMembership,
)
from cases.choices import AppellantSide, CounterNoticeReason, DecisionGround, DeclarationKind
from cases.models import Appeal, Case, CaseDraft, CaseItem, CounterNotice, Declaration, Evidence, StatementOfReasons
from core.tenancy import brand_owned_models
from detection.choices import Strength
from detection.models import (
    ReListingCandidate,
    RemovalFingerprint,
    StayDownPolicy,
    WatchDigest,
    WatchMatch,
    WatchSearch,
)
from integrations.models import WebhookEndpoint
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseAttachment, TestPurchaseFile
from tests import factories

pytestmark = pytest.mark.django_db

SCOPED_MODELS: list[type[models.Model]] = [
    Brand,
    BrandMembership,
    Invitation,
    IPRight,
    IPRightDocument,
    ProgramApplication,
    ApplicationDocument,
    InformationRequest,
    ProgramMembership,
    Case,
    CaseItem,
    Evidence,
    Declaration,
    CounterNotice,
    Appeal,
    StatementOfReasons,
    CaseDraft,
    ApiToken,
    WebhookEndpoint,
    RemovalFingerprint,
    ReListingCandidate,
    WatchSearch,
    WatchMatch,
    WatchDigest,
    TestPurchase,
    TestPurchaseFile,
    CustodyEvent,
    TestPurchaseAttachment,
    StayDownPolicy,
]
by_name = pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)


@dataclass
class World:
    """One brand and the rows of every scoped model that belong to it."""

    brand: Brand
    member: object
    rows: dict[type[models.Model], list[models.Model]] = field(default_factory=dict)

    def add(self, obj: models.Model) -> models.Model:
        self.rows.setdefault(type(obj), []).append(obj)
        return obj

    def pks(self, model: type[models.Model]) -> set[int]:
        return {obj.pk for obj in self.rows.get(model, [])}


def _document(**kwargs) -> dict:
    upload = SimpleUploadedFile("doc.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    return {
        "file": upload,
        "original_name": "doc.pdf",
        "content_type": "application/pdf",
        "size": upload.size,
        "sha256": "0" * 64,
        **kwargs,
    }


def build_world(slug: str) -> World:
    brand = factories.BrandFactory(slug=slug, name=slug.title())
    world = World(brand=brand, member=None, rows={Brand: [brand]})
    owner_membership = world.add(factories.MembershipFactory(brand=brand, role=Role.OWNER))
    owner = owner_membership.user
    # A second member, so a scope that joins memberships without care would return rows twice.
    world.add(factories.MembershipFactory(brand=brand, role=Role.REPORTER))
    world.member = owner
    world.add(
        Invitation.objects.create(
            brand=brand,
            email=f"invitee@{slug}.test",
            role=Role.VIEWER,
            token_hash=slug.ljust(64, "0"),
            invited_by=owner,
            expires_at=timezone.now(),
        )
    )

    right = world.add(factories.IPRightFactory(brand=brand))
    world.add(IPRightDocument.objects.create(right=right, **_document(uploaded_by=owner)))
    membership = world.add(factories.ProgramMembershipFactory(brand=brand, application__created_by=owner))
    application = world.add(membership.application)
    world.add(ApplicationDocument.objects.create(application=application, **_document(uploaded_by=owner)))
    world.add(InformationRequest.objects.create(application=application, message="Which lab?", requested_by=owner))

    now = timezone.now()
    case = world.add(
        Case.objects.create(
            brand=brand, filed_by=owner, lane="standard", reason_code="counterfeit", explanation="Fake."
        )
    )
    item = world.add(
        CaseItem.objects.create(
            case=case,
            brand=brand,
            listing=factories.ListingFactory(),
            lane="standard",
            reason_code="counterfeit",
            sla_due_at=now,
        )
    )
    world.add(Evidence.objects.create(case=case, item=item, **_document(uploaded_by=owner)))
    world.add(
        Declaration.objects.create(
            case=case, kind=DeclarationKind.ACCURACY, statement="Accurate.", signed_name="Ada", signed_by=owner
        )
    )
    world.add(
        CounterNotice.objects.create(
            item=item, reason=CounterNoticeReason.GENUINE, explanation="Genuine.", answer_due_at=now
        )
    )
    world.add(
        Appeal.objects.create(item=item, appellant=AppellantSide.SELLER, grounds="No.", contested_status="accepted")
    )
    world.add(
        StatementOfReasons.objects.create(
            item=item,
            decision_ground=DecisionGround.ILLEGAL_CONTENT,
            legal_ground="Trade mark law.",
            explanation="Counterfeit.",
            facts="The logo is fake.",
            application_date=now.date(),
        )
    )
    world.add(CaseDraft.objects.create(brand=brand, created_by=owner, idempotency_key="scoping", expires_at=now))
    world.add(token_create(membership=owner_membership, actor=owner, name="scoping")[0])
    world.add(WebhookEndpoint.objects.create(brand=brand, url=f"https://hooks.{slug}.test/", secret="whsec_test"))
    fingerprint = world.add(
        RemovalFingerprint.objects.create(
            brand=brand, source_item=item, case=case, listing_id=item.listing_id, title="Fake bag"
        )
    )
    world.add(
        ReListingCandidate.objects.create(
            brand=brand, fingerprint=fingerprint, listing=factories.ListingFactory(), score=0.9, strength=Strength.WEAK
        )
    )
    search = world.add(WatchSearch.objects.create(brand=brand, name="Totes", words="tote", created_by=owner))
    world.add(WatchMatch.objects.create(brand=brand, search=search, listing=factories.ListingFactory()))
    world.add(WatchDigest.objects.create(brand=brand, day=now.date(), matches=1, recipients=1))
    purchase = world.add(
        TestPurchase.objects.create(
            brand=brand, listing=item.listing, order_id="ORD-1", purchased_on=now.date(), recorded_by=owner
        )
    )
    world.add(TestPurchaseFile.objects.create(purchase=purchase, kind="photo", **_document(uploaded_by=owner)))
    world.add(
        CustodyEvent.objects.create(
            purchase=purchase,
            sequence=1,
            event_type="bought",
            at=now,
            previous_hash="0" * 64,
            hash=f"{slug}".ljust(64, "0"),
        )
    )
    world.add(TestPurchaseAttachment.objects.create(purchase=purchase, item=item, attached_by=owner))
    world.add(StayDownPolicy.objects.create(brand=brand, auto_file=False))
    return world


@pytest.fixture
def acme() -> World:
    return build_world("acme")


@pytest.fixture
def globex() -> World:
    return build_world("globex")


def read(model: type[models.Model], user, brand=None) -> list[int]:
    """The primary keys `user` reads, duplicates kept (so a test can see them)."""
    return list(model.objects.for_user(user, brand=brand).values_list("pk", flat=True))


def test_every_scoped_model_is_covered():
    assert set(brand_owned_models()) == set(SCOPED_MODELS)
    assert len(SCOPED_MODELS) == len(set(SCOPED_MODELS))


@by_name
def test_worlds_hold_rows_of_every_model(model, acme, globex):
    # Guards the tests below: each brand has its own rows of the model, so "sees only its own" can fail.
    assert acme.pks(model)
    assert globex.pks(model)
    assert not acme.pks(model) & globex.pks(model)
    assert model.objects.filter(pk__in=acme.pks(model) | globex.pks(model)).count() == len(
        acme.pks(model) | globex.pks(model)
    )


@by_name
def test_member_reads_only_their_brands_rows(model, acme, globex):
    seen = read(model, acme.member)
    assert sorted(seen) == sorted(acme.pks(model))
    assert read(model, acme.member, brand=acme.brand) == seen
    assert read(model, acme.member, brand=globex.brand) == []


@by_name
def test_inactive_membership_reads_nothing(model, acme, globex):
    BrandMembership.objects.filter(user=acme.member).update(is_active=False)
    assert read(model, acme.member) == []
    assert read(model, acme.member, brand=acme.brand) == []


@by_name
@pytest.mark.parametrize("user", [AnonymousUser(), None], ids=["anonymous", "none"])
def test_anonymous_reads_nothing(model, user, acme):
    assert read(model, user) == []
    assert read(model, user, brand=acme.brand) == []


@by_name
def test_agent_in_two_brands_reads_both_and_can_narrow_to_one(model, acme, globex):
    agent = factories.UserFactory(username="agent")
    agent_memberships = [
        factories.MembershipFactory(brand=world.brand, user=agent, role=Role.REPORTER) for world in (acme, globex)
    ]
    if model is BrandMembership:
        for world, membership in zip((acme, globex), agent_memberships, strict=True):
            world.add(membership)

    both = read(model, agent)
    assert len(both) == len(set(both)), "duplicate rows"
    assert set(both) == acme.pks(model) | globex.pks(model)
    assert sorted(read(model, agent, brand=acme.brand)) == sorted(acme.pks(model))
    assert sorted(read(model, agent, brand=globex.brand.pk)) == sorted(globex.pks(model))


@by_name
def test_agent_with_one_inactive_membership_reads_only_the_active_brand(model, acme, globex):
    agent = factories.UserFactory(username="agent")
    factories.MembershipFactory(brand=acme.brand, user=agent, role=Role.REPORTER)
    inactive = factories.MembershipFactory(brand=globex.brand, user=agent, role=Role.REPORTER, is_active=False)
    if model is BrandMembership:
        acme.add(BrandMembership.objects.get(user=agent, brand=acme.brand))
        globex.add(inactive)

    assert sorted(read(model, agent)) == sorted(acme.pks(model))
    assert read(model, agent, brand=globex.brand) == []


# --- the one membership lookup ------------------------------------------------------------------------


def test_active_of_finds_a_users_active_memberships_and_nothing_for_anonymous(acme, globex):
    agent = factories.UserFactory(username="agent")
    in_acme = factories.MembershipFactory(brand=acme.brand, user=agent, role=Role.REPORTER)
    factories.MembershipFactory(brand=globex.brand, user=agent, role=Role.OWNER, is_active=False)

    assert list(BrandMembership.objects.active_of(agent)) == [in_acme]
    assert BrandMembership.objects.active_of(agent, brand=acme.brand).get() == in_acme
    assert BrandMembership.objects.active_of(agent, brand_slug=acme.brand.slug).get() == in_acme
    assert not BrandMembership.objects.active_of(agent, brand=globex.brand).exists()
    assert not BrandMembership.objects.active_of(agent, brand_slug=globex.brand.slug).exists()
    assert not BrandMembership.objects.active_of(AnonymousUser()).exists()
