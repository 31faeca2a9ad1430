"""Issue 18, point 2: suspending a seller with more than N live listings is held by default for a second
moderation lead. The penalty gate of `listings.penalties` (filled by safeguards) holds the suspension; the
warning before it applies; a different lead's approval applies the suspension and its delisting job."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.audit.models import AuditEvent
from core.errors import Conflict
from listings import services as listing_services
from listings.choices import ListingStatus, PenaltyAction, SellerStatus
from listings.models import PenaltyPolicy, PenaltyThreshold, SellerPenalty
from safeguards.models import SecondApproval
from safeguards.services import approvals
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lock_checks")]


@pytest.fixture(autouse=True)
def few_listings_are_many(settings):
    """More than 3 live listings hold a suspension (100 by default)."""
    settings.MARKETSAFE = settings.MARKETSAFE | {"SECOND_APPROVER_SUSPENSION_MIN_LISTINGS": 3}


@pytest.fixture
def policy():
    policy = PenaltyPolicy.objects.create(name="Two strikes")
    PenaltyThreshold.objects.create(policy=policy, action=PenaltyAction.WARN, strikes=1)
    PenaltyThreshold.objects.create(policy=policy, action=PenaltyAction.SUSPEND, strikes=2)
    return policy


@pytest.fixture
def seller(marketplace):
    return factories.SellerFactory(marketplace=marketplace)


@pytest.fixture
def strike(seller):
    items = iter(range(1, 1_000_000))

    def record(actor=None):
        return listing_services.strike_record(
            seller_id=seller.pk, source_item_id=next(items), reason_code="counterfeit", actor=actor
        )

    return record


def _listings(seller, n: int, **fields) -> None:
    factories.ListingFactory.create_batch(n, marketplace=seller.marketplace, seller=seller, **fields)


def _actions(seller) -> list[str]:
    return list(SellerPenalty.objects.filter(seller=seller).order_by("pk").values_list("action", flat=True))


def test_a_large_sellers_suspension_waits_for_a_different_lead(policy, seller, strike, rules_lead, second_lead):
    _listings(seller, 4)
    _listings(seller, 3, status=ListingStatus.REMOVED)  # not live: not counted
    strike(actor=rules_lead)
    strike(actor=rules_lead)
    seller.refresh_from_db()
    # The warning applies; the suspension is held, asked for by the lead whose decision set it off.
    assert seller.status == SellerStatus.WARNED and _actions(seller) == [PenaltyAction.WARN]
    approval = SecondApproval.objects.get(seller=seller)
    assert (approval.state, approval.decision, approval.requested_by) == ("pending", "suspend", rules_lead)
    held = AuditEvent.objects.get(action="penalty.held", target_id=seller.pk)
    assert held.automated and "more than 3 live listings" in held.reason
    assert AuditEvent.objects.filter(action="approval.hold", target_id=approval.pk).exists()
    # A third strike while it waits asks for no second approval.
    strike()
    assert SecondApproval.objects.filter(seller=seller).count() == 1

    with pytest.raises(Conflict, match="different moderation lead"):
        approvals.approval_approve(approval_id=approval.pk, actor=rules_lead)
    approvals.approval_approve(approval_id=approval.pk, actor=second_lead)
    seller.refresh_from_db()
    approval.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED
    assert _actions(seller) == [PenaltyAction.WARN, PenaltyAction.SUSPEND]
    suspension = SellerPenalty.objects.get(seller=seller, action=PenaltyAction.SUSPEND)
    assert suspension.delist_job is not None and f"second approval #{approval.pk}" in suspension.reason
    assert (approval.state, approval.approved_by) == ("approved", second_lead)
    approved = AuditEvent.objects.get(action="approval.approve", target_id=approval.pk)
    assert approved.actor == second_lead and approved.data["penalties_applied"] == [suspension.pk]


def test_a_seller_with_n_live_listings_or_fewer_is_suspended_directly(policy, seller, strike):
    _listings(seller, 3)
    strike()
    strike()
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED
    assert not SecondApproval.objects.exists()


def test_an_automated_hold_needs_one_lead_and_no_moderator(policy, seller, strike, rules_moderator, rules_lead):
    _listings(seller, 5)
    strike()
    strike()  # a deadline sweep: nobody asked
    approval = SecondApproval.objects.get(seller=seller)
    assert approval.requested_by is None
    with pytest.raises(PermissionDenied):
        approvals.approval_approve(approval_id=approval.pk, actor=rules_moderator)
    approvals.approval_approve(approval_id=approval.pk, actor=rules_lead)
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED


def test_the_held_suspension_is_listed_and_approved_in_the_admin(
    client, policy, seller, strike, rules_lead, second_lead
):
    _listings(seller, 4)
    strike(actor=rules_lead)
    strike(actor=rules_lead)
    approval = SecondApproval.objects.get(seller=seller)
    changelist = reverse("admin:safeguards_secondapproval_changelist")
    client.force_login(rules_lead)
    page = client.get(changelist, {"state__exact": "pending"})
    assert page.status_code == 200 and "Suspend the seller" in page.text
    assert list(page.context["cl"].result_list) == [approval]
    refused = client.post(changelist, {"action": "approve", "_selected_action": [approval.pk]}, follow=True)
    assert "different moderation lead" in refused.text
    seller.refresh_from_db()
    assert seller.status == SellerStatus.WARNED
    client.force_login(second_lead)
    client.post(changelist, {"action": "approve", "_selected_action": [approval.pk]})
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED
    # The item request form still asks for an item.
    form = client.post(reverse("admin:safeguards_secondapproval_add"), {"decision": "accept"})
    assert form.status_code == 200 and "This field is required" in form.text
