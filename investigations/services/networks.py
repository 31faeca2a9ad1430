"""Acting on a whole seller network (issue 19): suspend every account, or delist every live listing.

`network_action_request` freezes the network around a seller (`selectors_networks.seller_network`) and,
for a small network, executes at once; a large one (NETWORK_SECOND_APPROVER_MIN_SELLERS sellers or
NETWORK_SECOND_APPROVER_MIN_LISTINGS live listings or more, or a network the search cut short) waits until a
moderation lead other than the one who asked approves it (`network_action_approve`) or declines it
(`network_action_decline`). Executing creates one delisting job for the whole network (the registered
selection kind `seller_network`: every live listing of the frozen sellers, resolved once when the job is
created) and, for a suspension, suspends every account through `listings.penalties` (a warning first
where none is in force), each penalty naming that job. Every step is audited (`network_action.*`), besides
the job's and the sellers' own audit events.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit.services import audit_record
from core.errors import Conflict
from investigations.models import NetworkAction, NetworkActionKind, NetworkActionStatus
from investigations.selectors_networks import network_live_listing_ids, seller_network
from listings import delisting
from listings.choices import PenaltyAction
from listings.penalties import penalty_apply_by_moderator

#: Moderators and leads (migration 0002_networks).
VIEW_PERMISSION = "investigations.view_networkaction"
REQUEST_PERMISSION = "investigations.add_networkaction"
#: Moderation leads only.
APPROVE_PERMISSION = "investigations.approve_networkaction"
DECLINE_PERMISSION = "investigations.change_networkaction"

#: The delisting engine's selection kind for a network: {"seller_ids": [...]}.
NETWORK_SELECTION = "seller_network"

DEFAULT_MIN_SELLERS = 5
DEFAULT_MIN_LISTINGS = 500


def network_listing_ids(selection: Mapping[str, Any]) -> Iterable[int]:
    """The delisting engine's resolver of a network selection: its sellers' live listings."""
    return network_live_listing_ids(selection["seller_ids"])


def register() -> None:
    """Called from `InvestigationsConfig.ready()`."""
    delisting.register_delist_selection(NETWORK_SELECTION, "A seller network", network_listing_ids)


def approval_thresholds() -> tuple[int, int]:
    rules = settings.MARKETSAFE
    return (
        rules.get("NETWORK_SECOND_APPROVER_MIN_SELLERS", DEFAULT_MIN_SELLERS),
        rules.get("NETWORK_SECOND_APPROVER_MIN_LISTINGS", DEFAULT_MIN_LISTINGS),
    )


def needs_second_approval(*, sellers: int, live_listings: int, truncated: bool) -> bool:
    min_sellers, min_listings = approval_thresholds()
    return truncated or sellers >= min_sellers or live_listings >= min_listings


def _require(actor: Any, permission: str, what: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(f"You may not {what}.")


@transaction.atomic
def network_action_request(
    *, seller_id: int, kind: str, actor: Any, reason: str, idempotency_key: str
) -> NetworkAction:
    """Ask to act on the network around `seller_id`; executed at once unless it needs a second approver.

    The same `idempotency_key` again (a double click) returns the first request and does nothing more; a
    second pending request of the same kind for the same seller is refused (409).
    """
    _require(actor, REQUEST_PERMISSION, "act on seller networks")
    kind = NetworkActionKind(kind)
    if not reason.strip():
        raise ValidationError({"reason": "Say why: the reason is recorded on every account and listing."})
    existing = NetworkAction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    network = seller_network(seller_id)
    live = network.live_listings
    needs = needs_second_approval(sellers=len(network), live_listings=live, truncated=network.truncated)
    try:
        with transaction.atomic():
            action = NetworkAction.objects.create(
                idempotency_key=idempotency_key,
                kind=kind,
                root_seller_id=seller_id,
                seller_ids=sorted(network.seller_ids),
                live_listings=live,
                truncated=network.truncated,
                reason=reason.strip(),
                needs_second_approval=needs,
                requested_by=actor,
            )
    except IntegrityError:
        # A double click that raced this one (same key) answers its action; otherwise a pending one blocks.
        winner = NetworkAction.objects.filter(idempotency_key=idempotency_key).first()
        if winner is not None:
            return winner
        raise Conflict("An action of this kind on this seller's network already waits for a second approver.") from None
    audit_record(
        action="network_action.request",
        target=action,
        actor=actor,
        to_state=action.status,
        reason=action.reason,
        data={"kind": kind.value, "sellers": len(network), "live_listings": live, "second_approval": needs},
    )
    if not needs:
        _execute(action, actor)
    return action


@transaction.atomic
def network_action_approve(*, action_id: int, actor: Any) -> NetworkAction:
    """A second lead approves a pending action: it is executed now, as this lead's."""
    _require(actor, APPROVE_PERMISSION, "approve actions on seller networks")
    action = _pending(action_id)
    if action.requested_by_id == actor.pk:
        raise Conflict("A second approval needs a different moderation lead than the one who asked for it.")
    action.approved_by = actor
    audit_record(
        action="network_action.approve",
        target=action,
        actor=actor,
        from_state=NetworkActionStatus.PENDING,
        to_state=NetworkActionStatus.EXECUTED,
        data={"requested_by": action.requested_by_id},
    )
    _execute(action, actor)
    return action


@transaction.atomic
def network_action_decline(*, action_id: int, actor: Any, reason: str) -> NetworkAction:
    """A lead declines a pending action: nothing is done to the network."""
    _require(actor, DECLINE_PERMISSION, "decline actions on seller networks")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the action is declined."})
    action = _pending(action_id)
    action.status, action.approved_by, action.decided_at = NetworkActionStatus.DECLINED, actor, timezone.now()
    action.save(update_fields=["status", "approved_by", "decided_at"])
    audit_record(
        action="network_action.decline",
        target=action,
        actor=actor,
        from_state=NetworkActionStatus.PENDING,
        to_state=action.status,
        reason=reason.strip(),
    )
    return action


def _pending(action_id: int) -> NetworkAction:
    action = NetworkAction.objects.select_for_update().get(pk=action_id)
    if action.status != NetworkActionStatus.PENDING:
        raise Conflict(f"This action is already {action.get_status_display().lower()}.")
    return action


def _execute(action: NetworkAction, actor: Any) -> None:
    """One delisting job for the network's live listings; for a suspension, every account suspended."""
    why = f"Network of seller #{action.root_seller_id} ({len(action.seller_ids)} sellers): {action.reason}"
    job = delisting.delist_job_create(
        selection_kind=NETWORK_SELECTION,
        selection={"seller_ids": action.seller_ids, "network_action_id": action.pk},
        actor=actor,
        reason=why,
        idempotency_key=f"network-action-{action.pk}",
    )
    suspended = 0
    if action.kind == NetworkActionKind.SUSPEND:
        applied = penalty_apply_by_moderator(
            seller_ids=action.seller_ids,
            action=PenaltyAction.SUSPEND,
            actor=actor,
            reason=why,
            delist_job=job,
            data={"network_action_id": action.pk},
        )
        suspended = sum(1 for penalty in applied if penalty.action == PenaltyAction.SUSPEND)
    action.status, action.decided_at, action.delist_job = NetworkActionStatus.EXECUTED, timezone.now(), job
    action.save(update_fields=["status", "decided_at", "delist_job", "approved_by"])
    audit_record(
        action="network_action.execute",
        target=action,
        actor=actor,
        to_state=action.status,
        data={"delist_job_id": job.pk, "suspended": suspended, "listings": len(job.selection.get("listing_ids", []))},
    )
