"""The repeat-infringer policy in action: penalties applied when a seller's active strikes reach the
thresholds of the active `PenaltyPolicy`, and lifted by people.

The ladder is `PenaltyAction`, mildest first. A penalty stays in force until it is lifted; a strike that
expires or is revoked does not lift anything by itself (the next evaluation simply finds less to do).
A suspension or termination is always preceded by a warning: when the seller has none in force, one is
recorded first, in the same transaction. Suspending or terminating a seller delists all of its live
listings through a delisting job (`listings.delisting`), which writes the audit record of every listing.

A suspension or termination may be *held* by a penalty gate (`register_penalty_gate`), which an app above
listings fills at start-up (the risk rules hold the suspension of a seller with many live listings for a
second moderation lead): the held action is not applied, the rest (the warning before it) is, and the
seller's audit trail records the hold (`penalty.held`). The gate's app applies it later by evaluating the
seller again while its gate lets the seller through.

The seller's status moves through `SELLER_MOVES` (`core.transitions.StateMachine`), audited as
`penalty.apply` / `penalty.lift`. The policy itself (strike lifetime, ladder) is saved by
`penalty_policy_save`, whatever edits it (the admin, a command), which checks the ladder and audits it.
"""

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit.services import audit_record
from core.errors import Conflict, DomainError
from core.transitions import StateMachine
from listings import delisting
from listings.choices import PENALTY_SELLER_STATUS, DelistSelectionKind, PenaltyAction, SellerStatus
from listings.models import PenaltyPolicy, PenaltyThreshold, Seller, SellerPenalty, Strike

#: The ladder's order: a higher rank is a harsher action.
RANK = {action: rank for rank, action in enumerate(PenaltyAction)}
#: Actions that take the seller's listings down.
DELISTING_ACTIONS = frozenset({PenaltyAction.SUSPEND, PenaltyAction.TERMINATE})

SYSTEM_USERNAME = "marketsafe-system"


#: The seller's status follows the penalties in force: any status may move to any other, the ladder
#: (not the current status) decides, so the machine is there for the save and the audit.
SELLER_MOVES = StateMachine(
    model=Seller,
    choices=SellerStatus,
    allowed_from={"apply": frozenset(SellerStatus), "lift": frozenset(SellerStatus)},
    audit_prefix="penalty",
)

#: Added to the strikes of thresholds that move while a ladder is saved (see `penalty_policy_save`).
LADDER_OFFSET = 1_000_000


class PenaltyLiftError(DomainError):
    """The penalty cannot be lifted: no reason was given, or (`PenaltyAlreadyLifted`) it already was."""


class PenaltyAlreadyLifted(Conflict, PenaltyLiftError):
    """The penalty was lifted before."""


#: `gate(seller=..., action=..., strikes=..., trigger=..., actor=...)` → why the delisting action must wait
#: (the gate records what it waits for), or None to let it through.
PenaltyGate = Callable[..., str | None]
_penalty_gates: list[PenaltyGate] = []


def register_penalty_gate(gate: PenaltyGate) -> None:
    """Let an app above listings hold suspensions and terminations back (called from its AppConfig.ready)."""
    if gate not in _penalty_gates:
        _penalty_gates.append(gate)


def _held(*, seller: Seller, action: PenaltyAction, strikes: int, trigger: str, actor: Any) -> str | None:
    for gate in _penalty_gates:
        why = gate(seller=seller, action=action, strikes=strikes, trigger=trigger, actor=actor)
        if why:
            return why
    return None


def system_user() -> Any:
    """The user that automated work acts as where a user is required.

    A delisting job must name who started it (`DelistJob.actor` is required, since people start most
    jobs), but a penalty applied after a deadline sweep made a removal final has no person behind it.
    Rather than loosen that rule for everyone, such jobs name this dedicated account (and carry
    `automated=True`). It is inactive and has no usable password: nobody can log in as it.
    """
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "display_name": "MarketSafe (automated)"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _action_in_force(seller_id: int) -> PenaltyAction | None:
    """The harshest unlifted penalty of the seller, if any."""
    actions = SellerPenalty.objects.filter(seller_id=seller_id, lifted_at__isnull=True).values_list("action", flat=True)
    return max((PenaltyAction(a) for a in actions), key=RANK.__getitem__, default=None)


def _warned(seller_id: int) -> bool:
    """Whether a warning is in force: a suspension or termination needs one first."""
    return SellerPenalty.objects.filter(seller_id=seller_id, action=PenaltyAction.WARN, lifted_at__isnull=True).exists()


def _move_seller(seller: Seller, action: str, status: str, now, **audit: Any) -> None:
    """Move the seller (locked by the caller) to `status` and audit it; `status_changed_at` only moves
    when the status does (lifting a warning under a restriction leaves the seller restricted)."""
    changed = {"status_changed_at": now} if seller.status != status else {}
    SELLER_MOVES.move(seller, action, status, **audit, **changed)


@transaction.atomic
def penalty_evaluate(*, seller_id: int, trigger: str = "", actor: Any = None) -> list[SellerPenalty]:
    """Apply what the active policy calls for at the seller's active strike count; returns the new penalties.

    Under a row lock on the seller (two strikes recorded at once are evaluated one after the other), the
    harshest action whose threshold is reached is applied unless it, or a harsher one, is in force
    already; evaluating again therefore applies nothing more. A suspension or termination is preceded by
    a warning when none is in force.

    The policy acts, not a person: whoever made the strike final (a brand user rejecting a counter-notice,
    a moderator) decided that case, not the penalty. Every penalty, its audit event and its delisting job
    are recorded as automated, with no person as their actor (the job names `system_user()`, since a job
    needs one), and their reason names the policy and `trigger`, the event that set them off.

    `actor`, when a person's decision set the evaluation off (the moderator who made a removal final), is
    only passed to the penalty gates: a held suspension names them as its requester, so that a different
    lead approves it. A held action is left out (`penalty.held` on the seller's trail); the rest applies.
    """
    seller = Seller.objects.select_for_update().get(pk=seller_id)
    policy = PenaltyPolicy.objects.filter(is_active=True).prefetch_related("thresholds").first()
    if policy is None:
        return []
    # The ladder counts weights: a strike confirmed by a test purchase counts as more than one.
    strikes = Strike.objects.filter(seller_id=seller_id).active().weight()
    reached = [PenaltyAction(t.action) for t in policy.thresholds.all() if strikes >= t.strikes]
    if not reached:
        return []
    target = max(reached, key=RANK.__getitem__)
    in_force = _action_in_force(seller_id)
    if in_force is not None and RANK[in_force] >= RANK[target]:
        return []

    to_apply = [target]
    if target in DELISTING_ACTIONS and not _warned(seller_id):
        to_apply.insert(0, PenaltyAction.WARN)

    now = timezone.now()
    applied = []
    reason = f"Policy “{policy.name}”: {strikes} active strike(s)" + (f", after {trigger}." if trigger else ".")
    held = (
        _held(seller=seller, action=target, strikes=strikes, trigger=trigger, actor=actor)
        if target in DELISTING_ACTIONS
        else None
    )
    if held:
        to_apply.remove(target)
        audit_record(
            action="penalty.held",
            target=seller,
            automated=True,
            from_state=seller.status,
            to_state=seller.status,
            reason=held,
            data={
                "penalty_action": target.value,
                "active_strikes": strikes,
                "policy_id": policy.pk,
                "trigger": trigger,
            },
        )
    for action in to_apply:
        penalty = _apply(seller, action, strikes, now, reason=reason, data={"policy_id": policy.pk, "trigger": trigger})
        if action in DELISTING_ACTIONS:
            penalty.delist_job = delisting.delist_job_create(
                selection_kind=DelistSelectionKind.SELLER,
                selection={"seller_id": seller.pk},
                actor=system_user(),
                reason=f"{action.label} of seller #{seller.pk} (penalty #{penalty.pk}): {penalty.reason}",
                idempotency_key=f"penalty-{penalty.pk}",
                automated=True,
            )
            penalty.save(update_fields=["delist_job"])
        applied.append(penalty)
    return applied


def _apply(
    seller: Seller,
    action: PenaltyAction,
    strikes: int,
    now,
    *,
    reason: str,
    actor: Any = None,
    delist_job: Any = None,
    data: Mapping[str, Any],
) -> SellerPenalty:
    """Record a penalty on the seller (locked by the caller) and move its status; automated without `actor`."""
    penalty = SellerPenalty.objects.create(
        seller=seller,
        action=action,
        active_strikes=strikes,
        reason=reason,
        applied_at=now,
        applied_by=actor,
        automated=actor is None,
        delist_job=delist_job,
    )
    _move_seller(
        seller,
        "apply",
        PENALTY_SELLER_STATUS[action],
        now,
        actor=actor,
        automated=actor is None,
        reason=reason,
        data={"penalty_id": penalty.pk, "penalty_action": action.value, "active_strikes": strikes, **data},
    )
    return penalty


@transaction.atomic
def penalty_apply_by_moderator(
    *, seller_ids: Sequence[int], action: str, actor: Any, reason: str, delist_job: Any = None, data: Mapping[str, Any]
) -> list[SellerPenalty]:
    """A person applies `action` to each seller (a whole seller network at once); returns the new penalties.

    Sellers are locked in id order (as `penalty_evaluate` locks one). A seller under that action or a harsher
    one already is left as it is; a suspension or termination is preceded by a warning when none is in force,
    as the policy's are. No delisting job is created here: the caller passes the one job that removes every
    seller's live listings (`delist_job`), which each delisting penalty names.
    """
    if not reason.strip():
        raise ValidationError("A reason is required to apply a penalty.")
    target = PenaltyAction(action)
    now = timezone.now()
    applied = []
    for seller in Seller.objects.select_for_update().filter(pk__in=list(seller_ids)).order_by("pk"):
        in_force = _action_in_force(seller.pk)
        if in_force is not None and RANK[in_force] >= RANK[target]:
            continue
        strikes = Strike.objects.filter(seller_id=seller.pk).active().count()
        to_apply = [target]
        if target in DELISTING_ACTIONS and not _warned(seller.pk):
            to_apply.insert(0, PenaltyAction.WARN)
        for step in to_apply:
            job = delist_job if step in DELISTING_ACTIONS else None
            applied.append(_apply(seller, step, strikes, now, reason=reason, actor=actor, delist_job=job, data=data))
    return applied


@transaction.atomic
def penalty_lift(*, penalty_id: int, actor: Any, reason: str) -> SellerPenalty:
    """Lift a penalty and set the seller's status from the penalties still in force (active if none).

    Lifting does not reinstate the listings a suspension or termination delisted: reinstating is a
    separate decision, taken listing by listing (or case by case) through the listing services. Nor does
    it revoke strikes: the next strike evaluates the policy again on the strikes still active.
    """
    if not reason.strip():
        raise PenaltyLiftError("A reason is required to lift a penalty.", field="reason")
    seller_id = SellerPenalty.objects.values_list("seller_id", flat=True).get(pk=penalty_id)
    # The seller first, in the same order as `penalty_evaluate`.
    seller = Seller.objects.select_for_update().get(pk=seller_id)
    penalty = SellerPenalty.objects.select_for_update().get(pk=penalty_id)
    if penalty.lifted_at is not None:
        raise PenaltyAlreadyLifted(f"Penalty #{penalty.pk} was already lifted.")
    now = timezone.now()
    penalty.lifted_at = now
    penalty.lifted_by = actor
    penalty.lift_reason = reason
    penalty.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    in_force = _action_in_force(seller_id)
    status = SellerStatus.ACTIVE if in_force is None else PENALTY_SELLER_STATUS[in_force]
    _move_seller(
        seller,
        "lift",
        status,
        now,
        actor=actor,
        reason=reason,
        data={"penalty_id": penalty.pk, "penalty_action": penalty.action},
    )
    return penalty


# --- the policy ---------------------------------------------------------------------------------------


def penalty_ladder_check(ladder: Mapping[str, int]) -> None:
    """Refuse a ladder (action → strikes) that does not climb: a harsher action needs more strikes."""
    for action, strikes in ladder.items():
        if strikes <= 0:
            raise ValidationError(f"{PenaltyAction(action).label} needs at least one strike.")
    rungs = sorted((RANK[PenaltyAction(action)], strikes, PenaltyAction(action)) for action, strikes in ladder.items())
    for (_, lower_strikes, lower), (_, higher_strikes, higher) in itertools.pairwise(rungs):
        if higher_strikes <= lower_strikes:
            raise ValidationError(f"{higher.label} needs more strikes than {lower.label.lower()}.")


@transaction.atomic
def penalty_policy_save(*, policy: PenaltyPolicy, ladder: Mapping[str, int] | None = None, actor: Any) -> PenaltyPolicy:
    """Save a new or changed policy and, unless `ladder` is None, make `ladder` (action → strikes) its
    thresholds; audited as `penalty_policy.create` or `penalty_policy.change` with the resulting ladder.

    Thresholds whose strikes change (or that go) are first moved out of the way (strikes + LADDER_OFFSET),
    so that the unique (policy, strikes) constraint holds after every statement: moving "restrict" from 2
    to 3 while "suspend" moves from 3 to 4 is fine, though 3 is taken until "suspend" is saved.
    """
    if ladder is not None:
        penalty_ladder_check(ladder)
    created = policy._state.adding
    policy.save()
    thresholds = PenaltyThreshold.objects.filter(policy=policy)
    if ladder is not None:
        current = dict(thresholds.select_for_update().values_list("action", "strikes"))
        moving = [action for action, strikes in current.items() if ladder.get(action) != strikes]
        thresholds.filter(action__in=moving).update(strikes=F("strikes") + LADDER_OFFSET)
        thresholds.exclude(action__in=list(ladder)).delete()
        for action, strikes in ladder.items():
            if current.get(action) != strikes:
                PenaltyThreshold.objects.update_or_create(policy=policy, action=action, defaults={"strikes": strikes})
    audit_record(
        action="penalty_policy.create" if created else "penalty_policy.change",
        target=policy,
        actor=actor,
        data={
            "strike_lifetime_days": policy.strike_lifetime_days,
            "is_active": policy.is_active,
            "thresholds": dict(thresholds.order_by("strikes").values_list("action", "strikes")),
        },
    )
    return policy


#: The policy `penalty_policy_install_default` ships (README, "The repeat-infringer policy"): a strike lasts
#: a year; the first active strike warns the seller, the second restricts its listings, the third suspends
#: it (all its live listings delisted). Termination is left to a person.
DEFAULT_POLICY_NAME = "Standard repeat-infringer policy"
DEFAULT_STRIKE_LIFETIME_DAYS = 365
DEFAULT_LADDER = {PenaltyAction.WARN: 1, PenaltyAction.RESTRICT: 2, PenaltyAction.SUSPEND: 3}


def penalty_policy_install_default(*, actor: Any) -> PenaltyPolicy | None:
    """Install the default policy when no policy is active; returns it, or None when one is active already."""
    if PenaltyPolicy.objects.filter(is_active=True).exists():
        return None
    return penalty_policy_save(
        policy=PenaltyPolicy(name=DEFAULT_POLICY_NAME, strike_lifetime_days=DEFAULT_STRIKE_LIFETIME_DAYS),
        ladder=DEFAULT_LADDER,
        actor=actor,
    )
