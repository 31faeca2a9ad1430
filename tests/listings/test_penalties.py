"""The repeat-infringer policy: strikes walk a seller up the ladder (a warning always before a
suspension, suspension and termination delist through a job), penalties are lifted with a reason, and
leads edit the policy in the admin.

Enqueued tasks never leave the test's transaction, so no message reaches Redis.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.audit.models import AuditEvent
from listings import delisting, penalties
from listings import services as listing_services
from listings.choices import DelistSelectionKind, ListingStatus, PenaltyAction, SellerStatus
from listings.models import DelistJob, PenaltyPolicy, PenaltyThreshold, SellerPenalty, Strike
from tests import factories

# Planning here needs no case locks.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_lock_checks")]

A = PenaltyAction


def make_policy(ladder: dict[str, int], **kwargs) -> PenaltyPolicy:
    policy = PenaltyPolicy.objects.create(name=kwargs.pop("name", "Standard"), **kwargs)
    for action, strikes in ladder.items():
        PenaltyThreshold.objects.create(policy=policy, action=action, strikes=strikes)
    return policy


@pytest.fixture
def ladder():
    return make_policy({A.WARN: 1, A.RESTRICT: 2, A.SUSPEND: 3, A.TERMINATE: 5})


@pytest.fixture
def seller(marketplace):
    return factories.SellerFactory(marketplace=marketplace)


@pytest.fixture
def strike(seller):
    """strike(actor=None) → a new strike recorded through the service (as a deadline sweep would)."""
    items = iter(range(1, 1_000_000))

    def record(actor=None, automated=True) -> Strike:
        return listing_services.strike_record(
            seller_id=seller.pk,
            source_item_id=next(items),
            reason_code="counterfeit",
            actor=actor,
            automated=automated,
        )

    return record


def actions_of(seller) -> list[str]:
    return list(SellerPenalty.objects.filter(seller=seller).order_by("pk").values_list("action", flat=True))


def status_of(seller) -> str:
    seller.refresh_from_db()
    return seller.status


def test_strikes_walk_the_seller_up_the_ladder(ladder, seller, strike, marketplace):
    live = factories.ListingFactory.create_batch(2, marketplace=marketplace, seller=seller)
    gone = factories.ListingFactory(marketplace=marketplace, seller=seller, status=ListingStatus.REMOVED)

    strike()
    assert status_of(seller) == SellerStatus.WARNED
    assert seller.status_changed_at is not None
    strike()
    assert status_of(seller) == SellerStatus.RESTRICTED
    assert actions_of(seller) == [A.WARN, A.RESTRICT]
    assert not DelistJob.objects.exists()

    strike()
    assert status_of(seller) == SellerStatus.SUSPENDED
    suspension = SellerPenalty.objects.get(seller=seller, action=A.SUSPEND)
    assert suspension.automated and suspension.applied_by is None and suspension.active_strikes == 3
    job = suspension.delist_job
    assert job.selection_kind == DelistSelectionKind.SELLER
    assert job.selection == {"seller_id": seller.pk}
    assert job.idempotency_key == f"penalty-{suspension.pk}"
    assert job.automated
    assert job.actor.username == penalties.SYSTEM_USERNAME
    assert not job.actor.is_active and not job.actor.has_usable_password()
    delisting.delist_job_plan(job_id=job.pk)
    selected = {pk for ids in job.chunks.values_list("listing_ids", flat=True) for pk in ids}
    assert selected == {x.pk for x in live}
    assert gone.pk not in selected

    strike()  # 4 strikes: still suspended
    assert actions_of(seller) == [A.WARN, A.RESTRICT, A.SUSPEND]
    strike()
    assert status_of(seller) == SellerStatus.TERMINATED
    termination = SellerPenalty.objects.get(seller=seller, action=A.TERMINATE)
    assert termination.delist_job is not None and termination.delist_job != job
    assert actions_of(seller) == [A.WARN, A.RESTRICT, A.SUSPEND, A.TERMINATE]

    applied = AuditEvent.objects.filter(action="penalty.apply", target_id=seller.pk).order_by("pk")
    assert [(e.from_state, e.to_state) for e in applied] == [
        ("active", "warned"),
        ("warned", "restricted"),
        ("restricted", "suspended"),
        ("suspended", "terminated"),
    ]
    assert all(e.automated and e.actor is None for e in applied)


def test_the_policy_acts_when_a_person_made_the_strike_final(ladder, seller, strike, moderator):
    """Issue 13 point 3: a brand user (or moderator) made the removal final; the penalties and the job are the
    policy's, recorded as automated, and name the strike that triggered them and who made it final."""
    make_policy({A.SUSPEND: 1}, name="Strict", is_active=False)  # inactive: not used
    for _ in range(3):
        last = strike(actor=moderator, automated=False)
    suspension = SellerPenalty.objects.get(seller=seller, action=A.SUSPEND)
    assert suspension.applied_by is None and suspension.automated
    assert suspension.reason == (
        f"Policy “Standard”: 3 active strike(s), after strike #{last.pk} for the final removal of case item"
        f" #{last.source_item_id}, made final by {moderator}."
    )
    job = suspension.delist_job
    assert job.actor.username == penalties.SYSTEM_USERNAME and job.automated
    assert f"strike #{last.pk}" in job.reason
    event = AuditEvent.objects.get(action="penalty.apply", target_id=seller.pk, to_state=SellerStatus.SUSPENDED)
    assert (event.actor, event.automated, event.data["trigger"]) == (
        None,
        True,
        f"strike #{last.pk} for the final removal of case item #{last.source_item_id}, made final by {moderator}",
    )


def test_reaching_a_suspension_directly_records_a_warning_first(seller, strike):
    make_policy({A.SUSPEND: 1})
    strike()
    warning, suspension = SellerPenalty.objects.filter(seller=seller).order_by("pk")
    assert (warning.action, suspension.action) == (A.WARN, A.SUSPEND)
    assert warning.applied_at <= suspension.applied_at
    assert warning.delist_job is None and suspension.delist_job is not None
    assert status_of(seller) == SellerStatus.SUSPENDED
    events = AuditEvent.objects.filter(action="penalty.apply", target_id=seller.pk).order_by("pk")
    assert [(e.from_state, e.to_state) for e in events] == [("active", "warned"), ("warned", "suspended")]


def test_reaching_a_termination_directly_records_a_warning_first(seller, strike):
    make_policy({A.TERMINATE: 1})
    strike()
    assert actions_of(seller) == [A.WARN, A.TERMINATE]
    assert status_of(seller) == SellerStatus.TERMINATED


def test_expired_and_revoked_strikes_do_not_count(ladder, seller, strike):
    old = timezone.now() - timedelta(days=400)
    listing_services.strike_record(seller_id=seller.pk, source_item_id=900, reason_code="counterfeit", issued_at=old)
    assert not SellerPenalty.objects.exists()  # expired on arrival
    first = strike()
    listing_services.strike_revoke_for_item(source_item_id=first.source_item_id, actor=None, reason="Overturned")
    strike()
    # One active strike: a warning, whatever the expired and revoked ones.
    assert actions_of(seller) == [A.WARN]
    assert penalties.penalty_evaluate(seller_id=seller.pk) == []
    assert status_of(seller) == SellerStatus.WARNED


def test_no_active_policy_no_penalty(seller, strike):
    make_policy({A.WARN: 1}, is_active=False)
    strike()
    strike()
    assert not SellerPenalty.objects.exists()
    assert status_of(seller) == SellerStatus.ACTIVE


def test_evaluating_again_applies_nothing_more(ladder, seller, strike):
    for _ in range(3):
        strike()
    before = (actions_of(seller), DelistJob.objects.count(), AuditEvent.objects.count())
    assert penalties.penalty_evaluate(seller_id=seller.pk) == []
    assert (actions_of(seller), DelistJob.objects.count(), AuditEvent.objects.count()) == before


def test_recording_the_same_item_twice_evaluates_once(ladder, seller):
    for _ in range(2):
        listing_services.strike_record(seller_id=seller.pk, source_item_id=7, reason_code="counterfeit")
    assert actions_of(seller) == [A.WARN]


def test_lifting_sets_the_status_back_and_is_audited(ladder, seller, strike, lead, marketplace):
    listing = factories.ListingFactory(marketplace=marketplace, seller=seller)
    for _ in range(3):
        strike()
    suspension = SellerPenalty.objects.get(seller=seller, action=A.SUSPEND)
    delisting.delist_job_plan(job_id=suspension.delist_job_id)

    lifted = penalties.penalty_lift(penalty_id=suspension.pk, actor=lead, reason="Seller proved authenticity.")
    assert lifted.lifted_at is not None and lifted.lifted_by == lead
    assert lifted.lift_reason == "Seller proved authenticity."
    assert status_of(seller) == SellerStatus.RESTRICTED  # the restriction is still in force
    event = AuditEvent.objects.get(action="penalty.lift", target_id=seller.pk)
    assert (event.from_state, event.to_state, event.actor) == ("suspended", "restricted", lead)
    assert event.reason == "Seller proved authenticity."
    assert event.data["penalty_id"] == suspension.pk

    for penalty in SellerPenalty.objects.filter(seller=seller, lifted_at__isnull=True):
        penalties.penalty_lift(penalty_id=penalty.pk, actor=lead, reason="Clean slate.")
    assert status_of(seller) == SellerStatus.ACTIVE
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE  # lifting reinstates nothing (nor did anything run here)

    with pytest.raises(penalties.PenaltyLiftError):
        penalties.penalty_lift(penalty_id=suspension.pk, actor=lead, reason="Again.")
    with pytest.raises(penalties.PenaltyLiftError):
        penalties.penalty_lift(penalty_id=suspension.pk, actor=lead, reason="  ")


def test_after_a_clean_slate_a_new_suspension_is_warned_again(ladder, seller, strike, lead):
    for _ in range(3):
        strike()
    for penalty in SellerPenalty.objects.filter(seller=seller):
        penalties.penalty_lift(penalty_id=penalty.pk, actor=lead, reason="Clean slate.")
    strike()
    in_force = SellerPenalty.objects.filter(seller=seller, lifted_at__isnull=True).order_by("pk")
    assert [p.action for p in in_force] == [A.WARN, A.SUSPEND]


def test_the_system_user_is_created_once():
    first, second = penalties.system_user(), penalties.system_user()
    assert first == second
    assert not first.is_active and not first.has_usable_password()


# --- admin ---


@pytest.fixture
def root_client(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def lift_action(client, penalty_ids, reason=None):
    data = {"action": "lift_penalties", "_selected_action": [str(pk) for pk in penalty_ids]}
    if reason is not None:
        data |= {"post": "yes", "reason": reason}
    else:
        data["index"] = "0"
    return client.post(reverse("admin:listings_sellerpenalty_changelist"), data)


def test_the_admin_lift_action_asks_for_a_reason_then_lifts(root_client, ladder, seller, strike):
    for _ in range(3):
        strike()
    suspension = SellerPenalty.objects.get(seller=seller, action=A.SUSPEND)

    page = lift_action(root_client, [suspension.pk])
    assert page.status_code == 200
    assert b"Lift penalties" in page.content and b"not</strong> reinstated" in page.content
    suspension.refresh_from_db()
    assert suspension.lifted_at is None

    empty = lift_action(root_client, [suspension.pk], reason="")
    assert empty.status_code == 200  # the form again, with its error
    suspension.refresh_from_db()
    assert suspension.lifted_at is None

    done = lift_action(root_client, [suspension.pk], reason="Mistaken identity.")
    assert done.status_code == 302
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None and suspension.lift_reason == "Mistaken identity."
    assert status_of(seller) == SellerStatus.RESTRICTED
    assert AuditEvent.objects.filter(action="penalty.lift", target_id=seller.pk, actor__username="root").exists()


def test_staff_without_the_permission_cannot_lift(client, moderator, ladder, seller, strike):
    strike()
    warning = SellerPenalty.objects.get(seller=seller)
    moderator.user_permissions.add(Permission.objects.get(codename="view_sellerpenalty"))
    client.force_login(moderator)
    changelist = client.get(reverse("admin:listings_sellerpenalty_changelist"))
    assert changelist.status_code == 200
    assert b"lift_penalties" not in changelist.content
    lift_action(client, [warning.pk], reason="Sneaky.")
    warning.refresh_from_db()
    assert warning.lifted_at is None
    assert status_of(seller) == SellerStatus.WARNED


def test_a_lead_lifts_with_the_permission(client, lead, ladder, seller, strike):
    strike()
    warning = SellerPenalty.objects.get(seller=seller)
    lead.user_permissions.add(*Permission.objects.filter(codename__in=["view_sellerpenalty", "change_sellerpenalty"]))
    client.force_login(lead)
    assert lift_action(client, [warning.pk], reason="Warned in error.").status_code == 302
    assert status_of(seller) == SellerStatus.ACTIVE


def policy_form(policy: PenaltyPolicy, thresholds: list[tuple[int | None, str, int]], **fields) -> dict:
    data = {
        "name": policy.name,
        "strike_lifetime_days": str(policy.strike_lifetime_days),
        "is_active": "on" if policy.is_active else "",
        "thresholds-TOTAL_FORMS": str(len(thresholds)),
        "thresholds-INITIAL_FORMS": str(sum(1 for pk, _, _ in thresholds if pk)),
        "thresholds-MIN_NUM_FORMS": "0",
        "thresholds-MAX_NUM_FORMS": "1000",
    } | fields
    for n, (pk, action, strikes) in enumerate(thresholds):
        data |= {
            f"thresholds-{n}-id": str(pk or ""),
            f"thresholds-{n}-policy": str(policy.pk),
            f"thresholds-{n}-action": action,
            f"thresholds-{n}-strikes": str(strikes),
        }
    return data


def test_a_lead_edits_the_policy_thresholds_in_the_admin(client, lead, ladder):
    lead.user_permissions.add(*Permission.objects.filter(codename__in=["view_penaltypolicy", "change_penaltypolicy"]))
    client.force_login(lead)
    url = reverse("admin:listings_penaltypolicy_change", args=[ladder.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="thresholds-0-strikes"' in page.content  # editable, not read-only

    rows = {t.action: t.pk for t in ladder.thresholds.all()}
    data = policy_form(
        ladder,
        [
            (rows[A.WARN], A.WARN, 1),
            (rows[A.RESTRICT], A.RESTRICT, 3),
            (rows[A.SUSPEND], A.SUSPEND, 4),
            (rows[A.TERMINATE], A.TERMINATE, 6),
        ],
        strike_lifetime_days="180",
    )
    response = client.post(url, data)
    assert response.status_code == 302
    ladder.refresh_from_db()
    assert ladder.strike_lifetime_days == 180
    assert dict(ladder.thresholds.values_list("action", "strikes")) == {
        A.WARN: 1,
        A.RESTRICT: 3,
        A.SUSPEND: 4,
        A.TERMINATE: 6,
    }
    event = AuditEvent.objects.get(action="penalty_policy.change", target_id=ladder.pk)
    assert event.actor == lead and event.data["strike_lifetime_days"] == 180


def test_the_ladder_must_climb(root_client, ladder):
    rows = {t.action: t.pk for t in ladder.thresholds.all()}
    data = policy_form(
        ladder,
        [
            (rows[A.WARN], A.WARN, 1),
            (rows[A.RESTRICT], A.RESTRICT, 2),
            (rows[A.SUSPEND], A.SUSPEND, 6),
            (rows[A.TERMINATE], A.TERMINATE, 5),
        ],
    )
    response = root_client.post(reverse("admin:listings_penaltypolicy_change", args=[ladder.pk]), data)
    assert response.status_code == 200
    assert b"Termination needs more strikes than suspension." in response.content
    assert ladder.thresholds.get(action=A.SUSPEND).strikes == 3


def test_staff_without_the_permission_cannot_edit_the_policy(client, moderator, ladder):
    moderator.user_permissions.add(Permission.objects.get(codename="view_penaltypolicy"))
    client.force_login(moderator)
    url = reverse("admin:listings_penaltypolicy_change", args=[ladder.pk])
    rows = {t.action: t.pk for t in ladder.thresholds.all()}
    data = policy_form(
        ladder,
        [
            (rows[A.WARN], A.WARN, 2),
            (rows[A.RESTRICT], A.RESTRICT, 3),
            (rows[A.SUSPEND], A.SUSPEND, 4),
            (rows[A.TERMINATE], A.TERMINATE, 6),
        ],
    )
    assert client.post(url, data).status_code == 403
    assert ladder.thresholds.get(action=A.WARN).strikes == 1


def test_two_thresholds_cannot_share_a_strike_count(root_client, ladder):
    rows = {t.action: t.pk for t in ladder.thresholds.all()}
    data = policy_form(
        ladder,
        [
            (rows[A.WARN], A.WARN, 1),
            (rows[A.RESTRICT], A.RESTRICT, 3),
            (rows[A.SUSPEND], A.SUSPEND, 3),
            (rows[A.TERMINATE], A.TERMINATE, 5),
        ],
    )
    response = root_client.post(reverse("admin:listings_penaltypolicy_change", args=[ladder.pk]), data)
    assert response.status_code == 200
    assert dict(ladder.thresholds.values_list("action", "strikes"))[A.RESTRICT] == 2
