"""`manage.py seed_demo`: the demo set is complete (every role, every item status in both lanes), loading
it again adds nothing, and `--listings N` adds exactly N listings and reports the rate."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from brands.choices import Lane, Role
from brands.models import Brand, BrandMembership, IPRight, ProgramApplication, ProgramMembership
from cases.choices import ItemStatus
from cases.models import Case, CaseItem, Evidence
from core.accounts.models import User
from core.audit.models import AuditEvent
from detection.models import ReListingCandidate, RemovalFingerprint
from integrations.models import ServiceToken
from integrations.services import service_token_authenticate
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseAttachment
from investigations.selectors import custody_verify
from listings import penalties
from listings.models import Listing, Marketplace, PenaltyPolicy, Seller, SellerPenalty, Strike
from marketsafe.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS

COUNTED = (
    User,
    Group,
    Brand,
    BrandMembership,
    IPRight,
    ProgramApplication,
    ProgramMembership,
    Marketplace,
    Seller,
    Listing,
    Case,
    CaseItem,
    Evidence,
    Strike,
    AuditEvent,
    ServiceToken,
    RemovalFingerprint,
    ReListingCandidate,
    TestPurchase,
    CustodyEvent,
)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.mark.django_db
def test_a_second_run_adds_nothing():
    seed()
    first = row_counts()
    output = seed()

    assert row_counts() == first
    assert "0 new cases" in output
    assert first["Case"] > 0
    assert first["AuditEvent"] > first["CaseItem"]


@pytest.mark.django_db
def test_the_demo_has_relistings_found_one_filed_automatically_and_others_waiting():
    seed()

    assert RemovalFingerprint.objects.filter(enabled=True).exists()
    candidates = ReListingCandidate.objects.all()
    assert candidates.count() >= 2
    filed = candidates.filter(status="filed", automated=True)
    assert filed.count() >= 1 and all(c.filed_item.lane == Lane.EXPEDITED for c in filed)
    assert candidates.filter(status="open").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["acme", "globex"])
def test_each_brand_has_test_purchases_with_verified_chains_and_one_backing_a_notice(slug):
    seed()

    purchases = TestPurchase.objects.filter(brand__slug=slug)
    assert set(purchases.values_list("verdict", flat=True)) == {"counterfeit", "pending", "genuine"}
    assert all(custody_verify(purchase).complete for purchase in purchases)
    attached = TestPurchaseAttachment.objects.get(purchase__brand__slug=slug)
    assert attached.item.reason_code == "counterfeit_test_purchase"


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["acme", "globex"])
def test_items_in_every_status_for_each_brand(slug):
    seed()

    statuses = set(CaseItem.objects.filter(brand__slug=slug).values_list("status", flat=True))

    assert statuses == set(ItemStatus.values)


@pytest.mark.django_db
def test_the_member_files_expedited_and_the_other_brand_standard():
    seed()

    lanes = {
        slug: set(Case.objects.filter(brand__slug=slug).values_list("lane", flat=True)) for slug in ("acme", "globex")
    }

    assert lanes == {"acme": {Lane.EXPEDITED}, "globex": {Lane.STANDARD}}
    assert ProgramMembership.objects.filter(brand__slug="acme").active().exists()
    assert not ProgramMembership.objects.filter(brand__slug="globex").exists()


@pytest.mark.django_db
def test_rights_of_every_status_and_strikes_from_final_removals():
    seed()

    acme_statuses = set(IPRight.objects.filter(brand__slug="acme").values_list("status", flat=True))

    assert acme_statuses == {"verified", "pending", "expired", "rejected"}
    refused = IPRight.objects.get(brand__slug="acme", status="rejected")
    assert refused.decision_reason  # the portal shows the brand why (issue 13 point 1)
    assert IPRight.objects.filter(brand__slug="globex", status="verified").count() >= 2
    assert Strike.objects.exists()
    # Issue 13 point 8: every strike is dated in the past, and the removals that gave them were final by now.
    now = timezone.now()
    assert not Strike.objects.filter(issued_at__gt=now).exists()
    assert not CaseItem.objects.filter(status=ItemStatus.FINAL, counter_notice_due_at__gt=now).exists()


@pytest.mark.django_db
def test_the_demo_ships_the_default_penalty_policy_which_acts_on_its_strikes():
    """Issue 13 points 2 and 3: the ladder the README documents, and its penalties recorded as automated."""
    seed()

    policy = PenaltyPolicy.objects.get(is_active=True)
    assert (policy.name, policy.strike_lifetime_days) == (penalties.DEFAULT_POLICY_NAME, 365)
    assert dict(policy.thresholds.values_list("action", "strikes")) == {"warn": 1, "restrict": 2, "suspend": 3}
    applied = SellerPenalty.objects.all()
    assert applied.exists()
    assert all(p.automated and p.applied_by is None and "Policy “" in p.reason for p in applied)


@pytest.mark.django_db
def test_every_demo_login_authenticates_with_the_demo_password():
    output = seed()

    for spec in DEMO_USERS:
        assert authenticate(username=spec.username, password=DEMO_PASSWORD) is not None, spec.username
        assert spec.username in output
    agent_roles = dict(BrandMembership.objects.filter(user__username="agent").values_list("brand__slug", "role"))
    assert agent_roles == {"acme": Role.REPORTER, "globex": Role.REPORTER}
    assert User.objects.get(username="lead").groups.filter(name="Moderation leads").exists()
    assert User.objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_each_marketplace_has_the_demo_service_token_the_readme_names():
    output = seed()

    for slug, token in (
        ("shopnow", "mst_demoshopnow_marketsafe-demo"),
        ("bazaarhub", "mst_demobazaarhu_marketsafe-demo"),
    ):
        row = service_token_authenticate(token)
        assert row is not None and row.marketplace.slug == slug, slug
        assert token in output
    assert service_token_authenticate("mst_demoshopnow_wrong") is None


@pytest.mark.django_db
def test_another_password_is_applied_to_the_demo_logins():
    seed("--password", "another-demo-secret")

    assert authenticate(username="owner", password="another-demo-secret") is not None
    assert authenticate(username="owner", password=DEMO_PASSWORD) is None


@pytest.mark.django_db
def test_listings_option_adds_exactly_that_many_and_prints_the_rate():
    seed()
    before = Listing.objects.count()

    output = seed("--listings", "500")
    seed("--listings", "500")

    assert Listing.objects.count() == before + 1000
    assert "Inserted 500 listings in" in output
    assert "rows/s" in output
    generated = Listing.objects.filter(seller__external_id__startswith="SYN")
    assert generated.count() == 1000
    assert generated.filter(external_id__isnull=True).count() == 0


@pytest.mark.django_db
def test_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        seed()
    assert not User.objects.exists()
