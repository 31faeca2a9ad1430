"""The item lifecycle: filing a case and every transition of its items.

Each transition
- locks the case row, then the item row (always in that order, so concurrent decisions on items of the
  same case queue up instead of deadlocking, and the case's aggregate status stays exact);
- refuses a transition the item's current status does not allow, with a message naming both;
- applies its effect on the listing through `listings.services` (remove, reinstate, strike);
- writes an audit event in the same transaction.

Who may call what (brand roles, moderator groups) is checked by the views, the API and the admin; the
rules that hold whoever calls (deadlines, a different moderator for appeals, an item assigned to another
moderator is only decided by taking it over) are checked here.

An accepted item stores its DSA statement of reasons in the same transaction as the decision, so no
removal exists without the statement the seller is owed.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from brands.models import Brand, IPRight
from brands.selectors import brand_lane
from cases.choices import (
    DECLARATION_TEXT,
    DSA_CATEGORY_IP,
    DSA_KEYWORDS,
    EEA_COUNTRIES,
    EVIDENCE_ALWAYS_REQUIRED,
    ITEM_APPEALABLE_STATUSES,
    ITEM_OPEN_STATUSES,
    ITEM_REMOVAL_STATUSES,
    ITEM_STATUS_CHANGED,
    LEGAL_GROUNDS,
    STATEMENT_MAX_LENGTHS,
    AppealStatus,
    AppellantSide,
    AutomatedDecision,
    CaseStatus,
    Channel,
    CounterNoticeAnswer,
    DecisionGround,
    DecisionVisibility,
    DeclarationKind,
    ItemStatus,
    ReasonCode,
    Redress,
    RejectionCode,
    SourceType,
)
from cases.models import Appeal, Case, CaseItem, CounterNotice, Declaration, Evidence, StatementOfReasons
from core.audit.services import audit_record, audit_record_state_changes
from core.outbox import publish
from listings import delisting
from listings import services as listing_services
from listings.choices import DelistSelectionKind
from listings.models import DelistJob


class TransitionNotAllowed(Exception):
    """The item's current status (or a deadline, or the actor) does not allow the requested change."""


S = ItemStatus

#: action → statuses it may start from. The target status is set by each service.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "start_review": frozenset({S.SUBMITTED}),
    "accept": frozenset({S.SUBMITTED, S.IN_REVIEW}),
    "reject": frozenset({S.SUBMITTED, S.IN_REVIEW}),
    "request_clarification": frozenset({S.SUBMITTED, S.IN_REVIEW}),
    "resubmit": frozenset({S.CLARIFICATION_REQUESTED}),
    "withdraw": frozenset({*ITEM_OPEN_STATUSES, *ITEM_REMOVAL_STATUSES}),
    "counter_notice": frozenset({S.ACCEPTED}),
    "brand_answer": frozenset({S.COUNTER_NOTICED}),
    "lapse": frozenset({S.COUNTER_NOTICED, S.CLARIFICATION_REQUESTED}),
    "finalise": frozenset({S.ACCEPTED}),
    "appeal": frozenset(ITEM_APPEALABLE_STATUSES),
    "decide_appeal": frozenset({S.APPEALED}),
}

#: Where an overturned appeal sends the item, by the status that was contested.
APPEAL_OVERTURN_STATUS = {
    S.REJECTED: S.ACCEPTED,
    S.ACCEPTED: S.REINSTATED,
    S.UPHELD: S.REINSTATED,
    S.FINAL: S.REINSTATED,
    S.REINSTATED: S.UPHELD,
}


def _rules() -> dict:
    return settings.MARKETSAFE


# --- filing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceInput:
    """An evidence file the caller has already checked (type sniffed from content, size capped)."""

    file: UploadedFile
    content_type: str
    kind: str = "screenshot"
    description: str = ""


def evidence_required(*, lane: str, reason_code: str) -> bool:
    """Evidence is optional only in the expedited lane, and only for reasons visible on the listing."""
    return lane != "expedited" or reason_code in EVIDENCE_ALWAYS_REQUIRED


def _sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


@transaction.atomic
def case_submit(
    *,
    brand: Brand,
    actor: Any,
    reason_code: str,
    explanation: str,
    rights: Sequence[IPRight],
    listing_urls: Sequence[str],
    signed_name: str,
    ip_address: str | None = None,
    evidence: Sequence[EvidenceInput] = (),
    channel: str = Channel.WEB,
    idempotency_key: str = "",
    item_notes: dict[str, str] | None = None,
) -> Case:
    """File a case with one submitted item per listing URL. All or nothing.

    `listing_urls` must already be normalised (`listings.services.normalise_listing_url`) and unique;
    unknown listings of known marketplaces are created. A repeated `idempotency_key` returns the case
    filed the first time instead of filing a second one.
    """
    if idempotency_key:
        # Serialise submits carrying the same key: a double click waits for the first filing to commit,
        # then finds and returns it instead of racing it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"case:{brand.pk}:{idempotency_key}"]
            )
        existing = Case.objects.filter(brand=brand, idempotency_key=idempotency_key).first()
        if existing:
            return existing

    errors: dict[str, list[str]] = {}
    if reason_code not in ReasonCode.values:
        errors.setdefault("reason_code", []).append(f"Unknown reason code {reason_code!r}.")
    if not explanation.strip():
        errors.setdefault("explanation", []).append("Explain what infringes which right.")
    if not signed_name.strip():
        errors.setdefault("signed_name", []).append("Sign the declarations by typing your full name.")
    usable = set(
        IPRight.objects.for_brand(brand).usable().filter(pk__in=[r.pk for r in rights]).values_list("pk", flat=True)
    )
    if not rights:
        errors.setdefault("rights", []).append("Choose at least one verified IP right.")
    for right in rights:
        if right.pk not in usable:
            errors.setdefault("rights", []).append(f"{right} is not a verified, unexpired right of {brand}.")
    max_items = _rules()["MAX_ITEMS_PER_CASE"]
    if not listing_urls:
        errors.setdefault("listings", []).append("Report at least one listing.")
    elif len(listing_urls) > max_items:
        errors.setdefault("listings", []).append(f"A case holds at most {max_items} listings; split the list.")
    elif len(set(listing_urls)) != len(listing_urls):
        errors.setdefault("listings", []).append("The same listing URL appears more than once.")
    lane = brand_lane(brand)
    if not evidence and evidence_required(lane=lane, reason_code=reason_code):
        errors.setdefault("evidence", []).append("Evidence is required for this reason code in your lane.")
    if errors:
        raise ValidationError(errors)

    try:
        listings = listing_services.listings_resolve_urls(listing_urls)
    except listing_services.UnknownMarketplace as exc:
        raise ValidationError({"listings": [f"No marketplace in the portal hosts {exc}."]}) from exc
    already_open = set(
        CaseItem.objects.for_brand(brand)
        .open()
        .filter(listing__in=listings.values())
        .values_list("listing__url", flat=True)
    )
    if already_open:
        raise ValidationError(
            {"listings": [f"Already reported in one of your open cases: {url}" for url in sorted(already_open)]}
        )

    now = timezone.now()
    case = Case.objects.create(
        brand=brand,
        filed_by=actor,
        lane=lane,
        reason_code=reason_code,
        explanation=explanation.strip(),
        channel=channel,
        idempotency_key=idempotency_key,
        submitted_at=now,
    )
    case.rights.set(rights)
    for kind in DeclarationKind:
        Declaration.objects.create(
            case=case,
            kind=kind,
            statement=DECLARATION_TEXT[kind],
            signed_name=signed_name.strip(),
            signed_by=actor,
            signed_at=now,
            ip_address=ip_address,
        )
    for upload in evidence:
        Evidence.objects.create(
            case=case,
            file=upload.file,
            original_name=upload.file.name[:255],
            content_type=upload.content_type,
            size=upload.file.size,
            sha256=_sha256(upload.file),
            uploaded_by=actor,
            kind=upload.kind,
            description=upload.description,
        )
    sla_due = now + timedelta(hours=_rules()["SLA_HOURS"][lane])
    notes = item_notes or {}
    try:
        with transaction.atomic():
            items = CaseItem.objects.bulk_create(
                CaseItem(
                    case=case,
                    brand=brand,
                    listing=listings[url],
                    lane=lane,
                    reason_code=reason_code,
                    brand_note=notes.get(url, ""),
                    submitted_at=now,
                    sla_due_at=sla_due,
                    status_changed_at=now,
                )
                for url in listing_urls
            )
    except IntegrityError as exc:
        # A concurrent filing reported one of these listings between our check and our insert.
        raise ValidationError({"listings": ["One of these listings was just reported in another open case."]}) from exc
    audit_record(
        action="case.submit",
        target=case,
        actor=actor,
        to_state=case.status,
        brand_id=brand.pk,
        data={"items": len(items), "lane": lane, "channel": channel},
    )
    audit_record_state_changes(
        action="item.submit",
        model=CaseItem,
        changes=((item.pk, "", S.SUBMITTED) for item in items),
        actor_id=actor.pk,
        brand_id=brand.pk,
    )
    publish(ITEM_STATUS_CHANGED, items)  # webhooks and the marketplace's feed, committed with the filing
    return case


# --- transitions ----------------------------------------------------------------------------------


def _lock(item_id: int) -> CaseItem:
    case_id = CaseItem.objects.filter(pk=item_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseItem.DoesNotExist(f"No case item #{item_id}.")
    Case.objects.select_for_update().filter(pk=case_id).get()
    return CaseItem.objects.select_for_update().select_related("listing").get(pk=item_id)


def _guard(item: CaseItem, action: str) -> None:
    allowed = ALLOWED_FROM[action]
    if item.status not in allowed:
        names = ", ".join(sorted(ItemStatus(s).label.lower() for s in allowed))
        raise TransitionNotAllowed(
            f"Cannot {action.replace('_', ' ')} item #{item.pk}: it is {item.get_status_display().lower()}; "
            f"that is only possible when it is {names}."
        )


def _move(
    item: CaseItem,
    action: str,
    to: str,
    *,
    actor: Any,
    reason: str = "",
    automated: bool = False,
    data: dict | None = None,
    **fields: Any,
) -> CaseItem:
    old = item.status
    item.status = to
    item.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=["status", "status_changed_at", *fields])
    audit_record(
        action=f"item.{action}",
        target=item,
        actor=actor,
        automated=automated,
        from_state=old,
        to_state=to,
        reason=reason,
        brand_id=item.brand_id,
        data=data,
    )
    publish(ITEM_STATUS_CHANGED, [item], from_status=old)  # webhooks and the marketplace's feed
    case_refresh_status(case_id=item.case_id, actor=actor, automated=automated)
    return item


def case_refresh_status(*, case_id: int, actor: Any = None, automated: bool = False) -> str:
    """Recompute a case's aggregate status from its items (the caller holds the case row lock)."""
    counts = CaseItem.objects.filter(case_id=case_id).aggregate(
        total=Count("pk"),
        submitted=Count("pk", filter=Q(status=S.SUBMITTED)),
        open=Count("pk", filter=Q(status__in=ITEM_OPEN_STATUSES)),
    )
    if counts["open"] == 0:
        status = CaseStatus.PROCESSED
    elif counts["submitted"] == counts["total"]:
        status = CaseStatus.RECEIVED
    else:
        status = CaseStatus.IN_REVIEW
    case = Case.objects.get(pk=case_id)
    if case.status != status:
        old = case.status
        case.status = status
        case.save(update_fields=["status"])
        audit_record(
            action="case.status",
            target=case,
            actor=actor,
            automated=automated,
            from_state=old,
            to_state=status,
            brand_id=case.brand_id,
        )
    return status


def _remove_listing(item: CaseItem, actor: Any, automated: bool = False) -> None:
    listing_services.listing_remove(
        listing_id=item.listing_id, actor=actor, automated=automated, reason=f"Case item #{item.pk}"
    )


def _reinstate_listing(item: CaseItem, actor: Any, automated: bool = False) -> None:
    """Reinstate the listing unless another report still keeps it removed (an appealed removal still counts)."""
    keeps_removed = Q(status__in=ITEM_REMOVAL_STATUSES) | Q(
        status=S.APPEALED, appeals__status=AppealStatus.OPEN, appeals__contested_status__in=ITEM_REMOVAL_STATUSES
    )
    still_removed = CaseItem.objects.filter(keeps_removed, listing_id=item.listing_id).exclude(pk=item.pk).exists()
    if not still_removed:
        listing_services.listing_reinstate(
            listing_id=item.listing_id, actor=actor, automated=automated, reason=f"Case item #{item.pk}"
        )


def _record_strike(item: CaseItem, actor: Any, automated: bool = False, at: datetime | None = None) -> None:
    """A removal for counterfeiting that became final gives the seller a strike."""
    if item.reason_code == ReasonCode.COUNTERFEIT and item.listing.seller_id:
        listing_services.strike_record(
            seller_id=item.listing.seller_id,
            source_item_id=item.pk,
            reason_code=item.reason_code,
            actor=actor,
            automated=automated,
            issued_at=at,
        )


def _appeal_until(now: datetime) -> datetime:
    return now + _rules()["APPEAL_WINDOW"]


# --- statements of reasons -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementInput:
    """What the moderator states to the seller about an acceptance, in the DSA Transparency Database's fields.

    A field left None takes the item's own default (`statement_defaults`), so one bulk decision over
    items of different reason codes still gives each item its legal ground and keyword.
    """

    decision_visibility: Sequence[str] | None = None
    end_date_visibility_restriction: date | None = None
    decision_ground: str | None = None
    legal_ground: str | None = None
    explanation: str | None = None
    facts: str | None = None
    category_specification: Sequence[str] | None = None
    territorial_scope: Sequence[str] | None = None
    application_date: date | None = None
    source_type: str | None = None
    automated_detection: bool | None = None
    automated_decision: str | None = None
    redress: Sequence[str] | None = None


def statement_defaults(item: CaseItem, *, message: str = "") -> dict[str, Any]:
    """The statement of reasons a moderator's acceptance of `item` gives when nothing is overridden.

    A notice under DSA Art. 16 reviewed by a person: content removed for illegal content, the reason
    code's legal ground and keyword, every redress route open. The facts are the moderator's message,
    else the brand's note on the listing, else the notice's explanation (the statement needs facts).
    """
    reason = ReasonCode(item.reason_code)
    facts = message.strip() or item.brand_note.strip()
    if not facts:
        facts = Case.objects.filter(pk=item.case_id).values_list("explanation", flat=True).get()
    return {
        "decision_visibility": [DecisionVisibility.CONTENT_REMOVED],
        "end_date_visibility_restriction": None,
        "decision_ground": DecisionGround.ILLEGAL_CONTENT,
        "legal_ground": LEGAL_GROUNDS[reason],
        "explanation": (
            f"The holder of the rights reported this listing for {reason.label.lower()} in notice #{item.case_id}. "
            "A moderator reviewed the notice and the listing and found the report well-founded."
        ),
        "facts": facts[: STATEMENT_MAX_LENGTHS["facts"]],
        "category_specification": [DSA_KEYWORDS[reason]],
        "territorial_scope": [],
        "application_date": timezone.localdate(),
        "source_type": SourceType.ARTICLE_16,
        "automated_detection": False,
        "automated_decision": AutomatedDecision.NOT_AUTOMATED,
        "redress": [Redress.INTERNAL_MECHANISM, Redress.OUT_OF_COURT, Redress.JUDICIAL],
    }


def _statement_values(item: CaseItem, *, message: str, given: StatementInput | None) -> dict[str, Any]:
    """The item's defaults overridden by what was given, checked against the Transparency Database's rules."""
    values = statement_defaults(item, message=message)
    if given is not None:
        values.update({name: value for name, value in vars(given).items() if value is not None})
    for name in ("decision_visibility", "category_specification", "territorial_scope", "redress"):
        values[name] = list(values[name])  # array columns: a tuple would reach PostgreSQL as a record
    errors: dict[str, list[str]] = {}

    def check(name: str, ok: bool, text: str) -> None:
        if not ok:
            errors.setdefault(name, []).append(text)

    visibility = values["decision_visibility"]
    check("decision_visibility", bool(visibility), "Choose at least one restriction of visibility.")
    check(
        "decision_visibility", set(visibility) <= set(DecisionVisibility.values), "Unknown restriction of visibility."
    )
    check("decision_ground", values["decision_ground"] in DecisionGround.values, "Unknown decision ground.")
    for name, limit in STATEMENT_MAX_LENGTHS.items():
        check(name, bool(values[name].strip()), "This field of the statement of reasons is required.")
        check(name, len(values[name]) <= limit, f"At most {limit} characters.")
    check(
        "category_specification",
        set(values["category_specification"]) <= set(DSA_KEYWORDS.values()),
        "Unknown DSA keyword.",
    )
    unknown = sorted(set(values["territorial_scope"]) - EEA_COUNTRIES)
    check("territorial_scope", not unknown, f"Not EU or EEA country codes: {', '.join(unknown)}.")
    check("source_type", values["source_type"] in SourceType.values, "Unknown source type.")
    check("automated_decision", values["automated_decision"] in AutomatedDecision.values, "Unknown automation.")
    check("redress", set(values["redress"]) <= set(Redress.values), "Unknown redress option.")
    end = values["end_date_visibility_restriction"]
    check(
        "end_date_visibility_restriction",
        end is None or end >= values["application_date"],
        "The restriction cannot end before it applies.",
    )
    if errors:
        raise ValidationError(errors)
    return values | {"category": DSA_CATEGORY_IP}


def _store_statement(item: CaseItem, actor: Any, values: dict[str, Any]) -> StatementOfReasons:
    return StatementOfReasons.objects.create(
        item=item, moderator=actor if actor is not None and actor.is_authenticated else None, **values
    )


# --- assignment -----------------------------------------------------------------------------------

#: Items a moderator may assign to themselves or release: those waiting for a first decision.
ASSIGNABLE_STATUSES = frozenset({S.SUBMITTED, S.IN_REVIEW})


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _guard_assignable(item: CaseItem, verb: str) -> None:
    if item.status not in ASSIGNABLE_STATUSES:
        raise TransitionNotAllowed(
            f"Cannot {verb} item #{item.pk}: it is {item.get_status_display().lower()}; only items waiting for a "
            "decision (submitted or in review) are assigned."
        )


def _guard_assignee(item: CaseItem, actor: Any, *, take_over: bool) -> dict[str, int]:
    """Refuse a decision on an item another moderator works on, unless the actor explicitly takes it over.

    Two moderators opening the same item must not both decide it by accident; the row lock already makes
    the second decision fail, but only after its author did the work. Returns the audit data that
    records a take-over (empty otherwise).
    """
    assignee = item.assigned_to_id
    if assignee is None or actor is None or assignee == actor.pk:
        return {}
    if not take_over:
        raise TransitionNotAllowed(
            f"Item #{item.pk} is assigned to {_person(item.assigned_to)}; take it over to decide it."
        )
    return {"took_over_from": assignee}


def _audit_assignment(item: CaseItem, action: str, actor: Any, data: dict[str, Any]) -> None:
    # No brand_id: who works on an item inside the marketplace is not part of the brand's timeline.
    audit_record(action=action, target=item, actor=actor, from_state=item.status, to_state=item.status, data=data)


@transaction.atomic
def item_assign(*, item_id: int, actor: Any, force: bool = False) -> CaseItem:
    """Assign an item waiting for a decision to `actor`, so that nobody else decides it by accident.

    A submitted item goes into review (the brand sees that someone is looking at it). An item assigned to
    someone else is only taken over with `force` (an explicit "take over" in the console); an item
    already assigned to `actor` is left as it is.
    """
    item = _lock(item_id)
    _guard_assignable(item, "assign")
    previous = item.assigned_to_id
    if previous == actor.pk:
        return item
    if previous is not None and not force:
        raise TransitionNotAllowed(
            f"Item #{item.pk} is assigned to {_person(item.assigned_to)}; take it over to assign it to yourself."
        )
    data = {"took_over_from": previous} if previous else None
    now = timezone.now()
    if item.status == S.SUBMITTED:
        return _move(item, "start_review", S.IN_REVIEW, actor=actor, data=data, assigned_to=actor, assigned_at=now)
    item.assigned_to, item.assigned_at = actor, now
    item.save(update_fields=["assigned_to", "assigned_at"])
    _audit_assignment(item, "item.assign", actor, data or {})
    return item


@transaction.atomic
def item_release(*, item_id: int, actor: Any) -> CaseItem:
    """Give back an item assigned to `actor` so another moderator can pick it up; it stays in review.

    Only the assignee releases an item (anyone else takes it over instead); an unassigned item is left
    as it is.
    """
    item = _lock(item_id)
    _guard_assignable(item, "release")
    if item.assigned_to_id is None:
        return item
    if item.assigned_to_id != actor.pk:
        raise TransitionNotAllowed(
            f"Item #{item.pk} is assigned to {_person(item.assigned_to)}; only they can release it."
        )
    item.assigned_to, item.assigned_at = None, None
    item.save(update_fields=["assigned_to", "assigned_at"])
    _audit_assignment(item, "item.release", actor, {"released_by": actor.pk})
    return item


# --- decisions ------------------------------------------------------------------------------------


@transaction.atomic
def item_start_review(*, item_id: int, actor: Any) -> CaseItem:
    item = _lock(item_id)
    _guard(item, "start_review")
    return _move(item, "start_review", S.IN_REVIEW, actor=actor, assigned_to=actor, assigned_at=timezone.now())


@transaction.atomic
def item_accept(
    *,
    item_id: int,
    actor: Any,
    message: str = "",
    statement: StatementInput | None = None,
    take_over: bool = False,
    remove_listing: bool = True,
) -> CaseItem:
    """Accept the report: the listing is removed, the seller's statement of reasons is stored and the
    seller's counter-notice window opens.

    `remove_listing=False` leaves the listing to a delisting job the caller creates in the same
    transaction (`items_accept` for large selections): the job writes the listing's one removal event.
    """
    item = _lock(item_id)
    _guard(item, "accept")
    took_over = _guard_assignee(item, actor, take_over=take_over)
    values = _statement_values(item, message=message, given=statement)
    now = timezone.now()
    if remove_listing:
        _remove_listing(item, actor)
    _move(
        item,
        "accept",
        S.ACCEPTED,
        actor=actor,
        reason=message,
        data=took_over,
        decided_at=now,
        decided_by=actor,
        moderator_message=message,
        rejection_code="",
        counter_notice_due_at=now + _rules()["COUNTER_NOTICE_WINDOW"],
        appeal_until=_appeal_until(now),
    )
    _store_statement(item, actor, values)
    return item


@transaction.atomic
def item_reject(*, item_id: int, actor: Any, code: str, message: str = "", take_over: bool = False) -> CaseItem:
    """Reject the report with a rejection code; the brand sees the code's "how to fix" guidance."""
    if code not in RejectionCode.values:
        raise ValidationError({"code": f"Choose a rejection code; {code!r} is not one."})
    item = _lock(item_id)
    _guard(item, "reject")
    took_over = _guard_assignee(item, actor, take_over=take_over)
    now = timezone.now()
    return _move(
        item,
        "reject",
        S.REJECTED,
        actor=actor,
        reason=message,
        data={"code": code, **took_over},
        decided_at=now,
        decided_by=actor,
        rejection_code=code,
        moderator_message=message,
        appeal_until=_appeal_until(now),
    )


@transaction.atomic
def item_request_clarification(*, item_id: int, actor: Any, message: str, take_over: bool = False) -> CaseItem:
    if not message.strip():
        raise ValidationError({"message": "Say what the brand must clarify."})
    item = _lock(item_id)
    _guard(item, "request_clarification")
    took_over = _guard_assignee(item, actor, take_over=take_over)
    now = timezone.now()
    return _move(
        item,
        "request_clarification",
        S.CLARIFICATION_REQUESTED,
        actor=actor,
        reason=message,
        data=took_over,
        decided_at=now,
        decided_by=actor,
        moderator_message=message,
        clarification_due_at=now + _rules()["CLARIFICATION_WINDOW"],
    )


@transaction.atomic
def item_resubmit(*, item_id: int, actor: Any, note: str) -> CaseItem:
    """The brand amends an item in clarification and sends it back to the queue with a new SLA."""
    if not note.strip():
        raise ValidationError({"note": "Answer the moderator's question before resubmitting."})
    item = _lock(item_id)
    _guard(item, "resubmit")
    now = timezone.now()
    return _move(
        item,
        "resubmit",
        S.SUBMITTED,
        actor=actor,
        reason=note,
        brand_note=note.strip(),
        submitted_at=now,
        sla_due_at=now + timedelta(hours=_rules()["SLA_HOURS"][item.lane]),
        clarification_due_at=None,
        decided_at=None,
        decided_by=None,
        assigned_to=None,
        assigned_at=None,
    )


@transaction.atomic
def item_withdraw(*, item_id: int, actor: Any, reason: str = "") -> CaseItem:
    """The brand withdraws its report; a listing removed because of it is reinstated."""
    item = _lock(item_id)
    _guard(item, "withdraw")
    was_removing = item.status in ITEM_REMOVAL_STATUSES
    _move(item, "withdraw", S.WITHDRAWN, actor=actor, reason=reason)
    if was_removing:
        _reinstate_listing(item, actor)
        listing_services.strike_revoke_for_item(source_item_id=item.pk, actor=actor, reason="Report withdrawn")
    return item


@transaction.atomic
def item_counter_notice(
    *, item_id: int, reason: str, explanation: str, actor: Any = None, received_at: datetime | None = None
) -> CounterNotice:
    """Record the seller's counter-notice (reported by the marketplace) within the window."""
    item = _lock(item_id)
    _guard(item, "counter_notice")
    now = received_at or timezone.now()
    if item.counter_notice_due_at and now > item.counter_notice_due_at:
        raise TransitionNotAllowed(
            f"The counter-notice window of item #{item.pk} closed on {item.counter_notice_due_at:%Y-%m-%d %H:%M}."
        )
    attempt = item.counter_notices.count() + 1
    due = now + _rules()["BRAND_ANSWER_WINDOW"]
    notice = CounterNotice.objects.create(
        item=item,
        attempt=attempt,
        reason=reason,
        explanation=explanation,
        received_at=now,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
        answer_due_at=due,
    )
    _move(
        item,
        "counter_notice",
        S.COUNTER_NOTICED,
        actor=actor,
        reason=explanation,
        data={"counter_notice": notice.pk, "reason": reason},
        brand_answer_due_at=due,
    )
    return notice


@transaction.atomic
def item_brand_answer(
    *, item_id: int, actor: Any, accept: bool, note: str = "", evidence: Sequence[EvidenceInput] = ()
) -> CaseItem:
    """The brand answers a counter-notice before its deadline: accept (reinstate) or reject with evidence."""
    item = _lock(item_id)
    _guard(item, "brand_answer")
    now = timezone.now()
    if item.brand_answer_due_at and now > item.brand_answer_due_at:
        raise TransitionNotAllowed(f"The deadline to answer the counter-notice on item #{item.pk} has passed.")
    if not accept and not evidence:
        raise ValidationError({"evidence": "Rejecting a counter-notice needs evidence."})
    notice = item.counter_notices.select_for_update().get(answer=CounterNoticeAnswer.PENDING)
    notice.answer = CounterNoticeAnswer.ACCEPTED if accept else CounterNoticeAnswer.REJECTED
    notice.answered_at, notice.answered_by, notice.answer_note = now, actor, note
    notice.save(update_fields=["answer", "answered_at", "answered_by", "answer_note"])
    for upload in evidence:
        Evidence.objects.create(
            case_id=item.case_id,
            item=item,
            counter_notice=notice,
            file=upload.file,
            original_name=upload.file.name[:255],
            content_type=upload.content_type,
            size=upload.file.size,
            sha256=_sha256(upload.file),
            uploaded_by=actor,
            kind=upload.kind,
            description=upload.description,
        )
    if accept:
        _move(
            item,
            "brand_answer",
            S.REINSTATED,
            actor=actor,
            reason=note,
            data={"answer": "accepted"},
            brand_answer_due_at=None,
            appeal_until=_appeal_until(now),
        )
        _reinstate_listing(item, actor)
    else:
        _move(
            item,
            "brand_answer",
            S.UPHELD,
            actor=actor,
            reason=note,
            data={"answer": "rejected"},
            brand_answer_due_at=None,
            appeal_until=_appeal_until(now),
        )
        _record_strike(item, actor)
    return item


@transaction.atomic
def item_lapse(*, item_id: int, now: datetime | None = None) -> CaseItem:
    """A deadline on the brand passed (applied by the scheduler).

    Counter-notice unanswered → the listing is reinstated. Clarification unanswered → the report is
    rejected as incomplete.
    """
    item = _lock(item_id)
    _guard(item, "lapse")
    now = now or timezone.now()
    due = item.brand_answer_due_at if item.status == S.COUNTER_NOTICED else item.clarification_due_at
    if due is None or now < due:
        raise TransitionNotAllowed(f"The brand's deadline on item #{item.pk} has not passed yet.")
    if item.status == S.COUNTER_NOTICED:
        item.counter_notices.filter(answer=CounterNoticeAnswer.PENDING).update(
            answer=CounterNoticeAnswer.LAPSED, answered_at=now
        )
        _move(
            item,
            "lapse",
            S.REINSTATED,
            actor=None,
            automated=True,
            reason="The brand did not answer the counter-notice in time.",
            brand_answer_due_at=None,
            appeal_until=_appeal_until(now),
        )
        _reinstate_listing(item, None, automated=True)
    else:
        _move(
            item,
            "lapse",
            S.REJECTED,
            actor=None,
            automated=True,
            reason="The brand did not answer the clarification request in time.",
            rejection_code=RejectionCode.INCOMPLETE,
            decided_at=now,
            decided_by=None,  # nobody decided: the rule did, so any moderator may hear an appeal
            clarification_due_at=None,
            appeal_until=_appeal_until(now),
        )
    return item


@transaction.atomic
def item_finalise(*, item_id: int, now: datetime | None = None) -> CaseItem:
    """The seller did not counter-notify in time: the removal is final (applied by the scheduler)."""
    item = _lock(item_id)
    _guard(item, "finalise")
    now = now or timezone.now()
    if item.counter_notice_due_at is None or now < item.counter_notice_due_at:
        raise TransitionNotAllowed(f"The counter-notice window of item #{item.pk} is still open.")
    _move(item, "finalise", S.FINAL, actor=None, automated=True, reason="No counter-notice within the window.")
    _record_strike(item, None, automated=True, at=now)
    return item


@transaction.atomic
def item_appeal(*, item_id: int, appellant: str, grounds: str, actor: Any = None) -> Appeal:
    """Either side contests a decision within the appeal window."""
    if appellant not in AppellantSide.values:
        raise ValidationError({"appellant": f"Unknown side {appellant!r}."})
    if not grounds.strip():
        raise ValidationError({"grounds": "Give the grounds of the appeal."})
    item = _lock(item_id)
    _guard(item, "appeal")
    if item.appeal_until is None or timezone.now() > item.appeal_until:
        raise TransitionNotAllowed(f"The appeal window of item #{item.pk} has closed.")
    appeal = Appeal.objects.create(
        item=item,
        appellant=appellant,
        grounds=grounds.strip(),
        contested_status=item.status,
        original_decider=item.decided_by,
        filed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _move(item, "appeal", S.APPEALED, actor=actor, reason=grounds, data={"appeal": appeal.pk, "appellant": appellant})
    return appeal


@transaction.atomic
def item_decide_appeal(*, item_id: int, actor: Any, overturn: bool, note: str) -> Appeal:
    """A moderator other than the one who made the contested decision upholds or overturns it."""
    if not note.strip():
        raise ValidationError({"note": "Explain the appeal decision."})
    item = _lock(item_id)
    _guard(item, "decide_appeal")
    appeal = item.appeals.select_for_update().get(status=AppealStatus.OPEN)
    if appeal.original_decider_id is not None and appeal.original_decider_id == actor.pk:
        raise TransitionNotAllowed("An appeal must be decided by someone other than the original decision's moderator.")
    now = timezone.now()
    appeal.status = AppealStatus.OVERTURNED if overturn else AppealStatus.UPHELD
    appeal.decided_at, appeal.decided_by, appeal.decision_note = now, actor, note
    appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    contested = appeal.contested_status
    if not overturn:
        _move(
            item, "decide_appeal", contested, actor=actor, reason=note, data={"appeal": appeal.pk, "outcome": "upheld"}
        )
        if contested in ITEM_REMOVAL_STATUSES:
            _remove_listing(item, actor)  # a no-op unless the listing came back meanwhile
        return appeal
    to = APPEAL_OVERTURN_STATUS[contested]
    _move(
        item,
        "decide_appeal",
        to,
        actor=actor,
        reason=note,
        data={"appeal": appeal.pk, "outcome": "overturned"},
        decided_at=now,
        decided_by=actor,
        rejection_code="",
        counter_notice_due_at=now + _rules()["COUNTER_NOTICE_WINDOW"]
        if to == S.ACCEPTED
        else item.counter_notice_due_at,
    )
    if to in ITEM_REMOVAL_STATUSES:
        _remove_listing(item, actor)
        # A removal the appeal brings about is a new restriction: the seller is owed its statement.
        _store_statement(item, actor, _statement_values(item, message=note, given=None))
        if to == S.UPHELD:
            _record_strike(item, actor)
    else:
        _reinstate_listing(item, actor)
        listing_services.strike_revoke_for_item(
            source_item_id=item.pk, actor=actor, reason="Appeal overturned the removal"
        )
    return appeal


# --- many items at once ----------------------------------------------------------------------------


@dataclass
class BulkOutcome:
    """What a decision over many items did: the items it changed, those it refused (id → why), and the
    delisting job that removes the accepted items' listings (large acceptances only)."""

    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    job: DelistJob | None = None


def items_each(*, item_ids: Sequence[int], apply: Callable[[int], object]) -> BulkOutcome:
    """Apply a one-item service to each item, in the given order, each in its own transaction (a savepoint
    inside the caller's). An item the service refuses is recorded with the reason and the others go on."""
    outcome = BulkOutcome()
    for item_id in item_ids:
        try:
            apply(item_id)
        except TransitionNotAllowed as exc:
            outcome.refused[item_id] = str(exc)
        except ValidationError as exc:
            outcome.refused[item_id] = f"Item #{item_id}: {' '.join(exc.messages)}"
        else:
            outcome.done.append(item_id)
    return outcome


def direct_accept_max() -> int:
    """Above this many items, an acceptance removes the listings through one delisting job."""
    return int(_rules().get("ADMIN_DIRECT_ACCEPT_MAX", 50))


def items_accept(
    *,
    item_ids: Sequence[int],
    actor: Any,
    message: str = "",
    statement: StatementInput | None = None,
    take_over: bool = False,
) -> BulkOutcome:
    """Accept many items, each refused on its own if its status or assignee does not allow it.

    Up to `direct_accept_max()` items, each acceptance removes its listing itself, each in its own
    transaction, as if accepted one by one. Above, removing the listings one by one would hold the
    request and the cases' row locks too long: the items are decided (status, statement of reasons,
    audit) without touching their listings, and ONE delisting job removes them in the background. The
    decisions and the job commit together, so no item is accepted without something that removes its
    listing. Items are decided in (case, item) order: two large acceptances over the same cases lock the
    case rows in the same order and so cannot deadlock.
    """
    ids = list(CaseItem.objects.filter(pk__in=item_ids).order_by("case_id", "pk").values_list("pk", flat=True))
    missing = sorted(set(item_ids) - set(ids))

    def accept(remove_listing: bool) -> Callable[[int], object]:
        return lambda item_id: item_accept(
            item_id=item_id,
            actor=actor,
            message=message,
            statement=statement,
            take_over=take_over,
            remove_listing=remove_listing,
        )

    if len(ids) <= direct_accept_max():
        outcome = items_each(item_ids=ids, apply=accept(remove_listing=True))
    else:
        with transaction.atomic():
            outcome = items_each(item_ids=ids, apply=accept(remove_listing=False))
            if outcome.done:
                outcome.job = _delist_accepted(outcome.done, actor=actor)
    outcome.refused.update({item_id: f"No case item #{item_id}." for item_id in missing})
    return outcome


def _delist_accepted(item_ids: list[int], *, actor: Any) -> DelistJob:
    done = sorted(item_ids)
    digest = hashlib.sha256(",".join(map(str, done)).encode()).hexdigest()
    return delisting.delist_job_create(
        selection_kind=DelistSelectionKind.CASE_ITEMS,
        selection={"item_ids": done},
        listing_ids=CaseItem.objects.filter(pk__in=done).values_list("listing_id", flat=True),
        actor=actor,
        reason=f"Reports accepted by a moderator ({len(done)} case items, listed in the job's selection).",
        # The same accepted items can only be accepted once, so their ids name the job.
        idempotency_key=f"accept-items:{digest}",
    )


# --- deadlines --------------------------------------------------------------------------------------

#: Which deadline each sweep looks at, and the service that applies its rule.
DEADLINE_RULES = (
    (S.ACCEPTED, "counter_notice_due_at", "finalise"),
    (S.COUNTER_NOTICED, "brand_answer_due_at", "lapse"),
    (S.CLARIFICATION_REQUESTED, "clarification_due_at", "lapse"),
)


def items_apply_deadlines(*, now: datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """Apply the rule of every passed deadline: seller silent → removal final (and a strike); brand silent
    on a counter-notice → listing reinstated; brand silent on a clarification → rejected as incomplete.

    Each item goes through its service in its own transaction, so one item changed meanwhile (by a person
    or a concurrent sweep) is skipped without undoing the others. At most `limit` items per rule per run;
    the next run continues where this one stopped (the partial indexes on each deadline make that cheap).
    """
    now = now or timezone.now()
    applied = {"finalise": 0, "lapse": 0, "skipped": 0}
    for status, deadline, action in DEADLINE_RULES:
        due = (
            CaseItem.objects.filter(status=status, **{f"{deadline}__lte": now})
            .order_by(deadline, "pk")
            .values_list("pk", flat=True)[:limit]
        )
        apply = item_finalise if action == "finalise" else item_lapse
        for item_id in list(due):
            try:
                apply(item_id=item_id, now=now)
            except TransitionNotAllowed:
                applied["skipped"] += 1
            else:
                applied[action] += 1
    return applied
