"""The policy's services: `penalty_policy_save` (the ladder renumbered safely, checked and audited,
whoever edits it) and the seller's status moves of `penalty_evaluate` / `penalty_lift`."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.audit.models import AuditEvent
from core.errors import Conflict, DomainError
from listings import penalties
from listings import services as listing_services
from listings.choices import PenaltyAction, SellerStatus
from listings.models import PenaltyPolicy, SellerPenalty
from tests import factories

pytestmark = pytest.mark.django_db

A = PenaltyAction


def thresholds_of(policy: PenaltyPolicy) -> dict[str, int]:
    return dict(policy.thresholds.values_list("action", "strikes"))


@pytest.fixture
def policy(moderator):
    return penalties.penalty_policy_save(
        policy=PenaltyPolicy(name="Standard"),
        ladder={A.WARN: 1, A.RESTRICT: 2, A.SUSPEND: 3, A.TERMINATE: 5},
        actor=moderator,
    )


def test_creating_a_policy_saves_its_ladder_and_audits_it(policy, moderator):
    assert thresholds_of(policy) == {A.WARN: 1, A.RESTRICT: 2, A.SUSPEND: 3, A.TERMINATE: 5}
    event = AuditEvent.objects.get(action="penalty_policy.create", target_id=policy.pk)
    assert event.actor == moderator
    assert event.data == {
        "strike_lifetime_days": 365,
        "is_active": True,
        "thresholds": {"warn": 1, "restrict": 2, "suspend": 3, "terminate": 5},
    }


def test_a_ladder_shifted_onto_its_own_counts_is_saved_and_audited_with_the_new_counts(policy, lead):
    # Each new count but the last is taken by another threshold until that one moves too.
    policy.strike_lifetime_days = 180
    penalties.penalty_policy_save(
        policy=policy, ladder={A.WARN: 2, A.RESTRICT: 3, A.SUSPEND: 5, A.TERMINATE: 8}, actor=lead
    )

    assert thresholds_of(policy) == {A.WARN: 2, A.RESTRICT: 3, A.SUSPEND: 5, A.TERMINATE: 8}
    event = AuditEvent.objects.get(action="penalty_policy.change", target_id=policy.pk)
    assert event.actor == lead
    assert event.data["strike_lifetime_days"] == 180
    assert event.data["thresholds"] == {"warn": 2, "restrict": 3, "suspend": 5, "terminate": 8}


def test_rungs_left_out_of_the_ladder_are_removed_and_new_ones_added(policy, moderator):
    penalties.penalty_policy_save(policy=policy, ladder={A.WARN: 1, A.SUSPEND: 2}, actor=moderator)

    assert thresholds_of(policy) == {A.WARN: 1, A.SUSPEND: 2}


def test_without_a_ladder_the_thresholds_stay(policy, moderator):
    policy.name = "Renamed"
    penalties.penalty_policy_save(policy=policy, actor=moderator)

    assert PenaltyPolicy.objects.get(pk=policy.pk).name == "Renamed"
    assert thresholds_of(policy) == {A.WARN: 1, A.RESTRICT: 2, A.SUSPEND: 3, A.TERMINATE: 5}
    assert AuditEvent.objects.get(action="penalty_policy.change").data["thresholds"]["terminate"] == 5


@pytest.mark.parametrize(
    ("ladder", "message"),
    [
        ({A.WARN: 1, A.RESTRICT: 3, A.SUSPEND: 3}, "Suspension needs more strikes than restriction."),
        ({A.WARN: 4, A.RESTRICT: 2}, "Restriction needs more strikes than warning."),
        ({A.WARN: 0}, "Warning needs at least one strike."),
    ],
)
def test_a_ladder_that_does_not_climb_is_refused_and_nothing_changes(policy, moderator, ladder, message):
    policy.strike_lifetime_days = 30
    with pytest.raises(ValidationError, match=message):
        penalties.penalty_policy_save(policy=policy, ladder=ladder, actor=moderator)

    policy.refresh_from_db()
    assert policy.strike_lifetime_days == 365
    assert thresholds_of(policy) == {A.WARN: 1, A.RESTRICT: 2, A.SUSPEND: 3, A.TERMINATE: 5}
    assert not AuditEvent.objects.filter(action="penalty_policy.change").exists()


def test_a_lead_adds_a_policy_with_its_ladder_in_the_admin(client, lead):
    lead.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_penaltypolicy", "change_penaltypolicy", "add_penaltypolicy"])
    )
    client.force_login(lead)
    data = {
        "name": "Strict",
        "strike_lifetime_days": "90",
        "is_active": "on",
        "thresholds-TOTAL_FORMS": "2",
        "thresholds-INITIAL_FORMS": "0",
        "thresholds-MIN_NUM_FORMS": "0",
        "thresholds-MAX_NUM_FORMS": "1000",
        "thresholds-0-action": A.WARN,
        "thresholds-0-strikes": "1",
        "thresholds-1-action": A.TERMINATE,
        "thresholds-1-strikes": "2",
    }

    response = client.post(reverse("admin:listings_penaltypolicy_add"), data)

    assert response.status_code == 302
    policy = PenaltyPolicy.objects.get(name="Strict")
    assert thresholds_of(policy) == {A.WARN: 1, A.TERMINATE: 2}
    event = AuditEvent.objects.get(action="penalty_policy.create", target_id=policy.pk)
    assert event.actor == lead and event.data["thresholds"] == {"warn": 1, "terminate": 2}


def test_a_policy_changed_without_touching_its_ladder_keeps_it(client, policy):
    rows = list(policy.thresholds.order_by("strikes").values_list("pk", "action", "strikes"))
    data = {
        "name": "Renamed",
        "strike_lifetime_days": "365",
        "is_active": "on",
        "thresholds-TOTAL_FORMS": str(len(rows)),
        "thresholds-INITIAL_FORMS": str(len(rows)),
        "thresholds-MIN_NUM_FORMS": "0",
        "thresholds-MAX_NUM_FORMS": "1000",
    }
    for n, (pk, action, strikes) in enumerate(rows):
        data |= {
            f"thresholds-{n}-id": str(pk),
            f"thresholds-{n}-policy": str(policy.pk),
            f"thresholds-{n}-action": action,
            f"thresholds-{n}-strikes": str(strikes),
        }

    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:listings_penaltypolicy_change", args=[policy.pk]), data)

    assert response.status_code == 302
    assert PenaltyPolicy.objects.get(pk=policy.pk).name == "Renamed"
    assert thresholds_of(policy) == {A.WARN: 1, A.RESTRICT: 2, A.SUSPEND: 3, A.TERMINATE: 5}
    assert AuditEvent.objects.get(action="penalty_policy.change").data["thresholds"]["terminate"] == 5


# --- the seller's status moves ---------------------------------------------------------------------------


def test_lifting_a_penalty_under_a_harsher_one_keeps_the_status_and_when_it_changed(policy, lead, marketplace):
    seller = factories.SellerFactory(marketplace=marketplace)
    for item in (1, 2):
        listing_services.strike_record(
            seller_id=seller.pk, source_item_id=item, reason_code="counterfeit", actor=None, automated=True
        )
    seller.refresh_from_db()
    assert seller.status == SellerStatus.RESTRICTED
    changed_at = seller.status_changed_at
    warning = SellerPenalty.objects.get(seller=seller, action=A.WARN)

    penalties.penalty_lift(penalty_id=warning.pk, actor=lead, reason="Warned in error.")

    seller.refresh_from_db()
    assert (seller.status, seller.status_changed_at) == (SellerStatus.RESTRICTED, changed_at)
    event = AuditEvent.objects.get(action="penalty.lift", target_id=seller.pk)
    assert (event.from_state, event.to_state, event.actor) == ("restricted", "restricted", lead)


def test_lift_refusals_are_domain_errors(policy, lead, marketplace):
    seller = factories.SellerFactory(marketplace=marketplace)
    listing_services.strike_record(
        seller_id=seller.pk, source_item_id=1, reason_code="counterfeit", actor=None, automated=True
    )
    warning = SellerPenalty.objects.get(seller=seller)

    with pytest.raises(DomainError) as no_reason:
        penalties.penalty_lift(penalty_id=warning.pk, actor=lead, reason=" ")
    assert (no_reason.value.status, no_reason.value.field) == (400, "reason")

    penalties.penalty_lift(penalty_id=warning.pk, actor=lead, reason="Warned in error.")
    with pytest.raises(Conflict, match=f"Penalty #{warning.pk} was already lifted."):
        penalties.penalty_lift(penalty_id=warning.pk, actor=lead, reason="Again.")
