"""Quality audits: a weekly, reproducible, stratified sample of decided items; a blind re-decision by an
auditor who did not make the first; disagreements resolved by a lead; and the figures (audited accuracy with
Wilson 95% intervals, Cohen's kappa between first decisions and audits) with their CSV.

The sample is drawn by ranking each decided item of the week, within its stratum (brand, lane, reason
code), by sha256("<seed>:<item id>") and keeping the lowest `per_stratum`: the seed and the week are stored
on the round, so anyone can re-draw it (`audit_sample`). Sampling reads decided items only and changes
nothing on them: an audit never touches an item's SLA clock or status.
"""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from brands.selectors import AuditedAccuracy
from cases.choices import ITEM_REMOVAL_STATUSES, ItemStatus
from cases.models import CaseItem
from core.audit.services import audit_record
from core.errors import Conflict
from safeguards.choices import AuditState, AuditVerdict
from safeguards.models import AuditItem, AuditRound
from safeguards.stats import cohen_kappa, wilson_interval

AUDIT_PERMISSION = "safeguards.audit_audititem"
RESOLVE_PERMISSION = "safeguards.resolve_audititem"
#: The first decision each sampled status stands for.
FIRST_VERDICT = {
    **dict.fromkeys(ITEM_REMOVAL_STATUSES, AuditVerdict.ACCEPT),
    ItemStatus.REINSTATED: AuditVerdict.ACCEPT,
    ItemStatus.REJECTED: AuditVerdict.REJECT,
}
DEFAULT_PER_STRATUM = 5


def rank(seed: str, item_id: int) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def _week_bounds(week: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(week, time.min))
    return start, start + timedelta(days=7)


def audit_sample(*, week: date, seed: str, per_stratum: int) -> list[tuple[str, int, str, int]]:
    """(stratum, item id, first verdict, first moderator id) of the week's sample, in stratum then rank order.
    Only decisions a person made are sampled (not the deadline rule's)."""
    start, end = _week_bounds(week)
    rows = (
        CaseItem.objects.filter(
            decided_at__gte=start, decided_at__lt=end, decided_by__isnull=False, status__in=list(FIRST_VERDICT)
        )
        .order_by()
        .values_list("pk", "brand_id", "lane", "reason_code", "status", "decided_by_id")
    )
    strata: defaultdict[str, list[tuple[str, int, str, int]]] = defaultdict(list)
    for pk, brand_id, lane, reason_code, status, moderator_id in rows:
        strata[f"{brand_id}/{lane}/{reason_code}"].append((rank(seed, pk), pk, FIRST_VERDICT[status], moderator_id))
    return [
        (stratum, pk, verdict, moderator_id)
        for stratum in sorted(strata)
        for _, pk, verdict, moderator_id in sorted(strata[stratum])[:per_stratum]
    ]


@transaction.atomic
def audit_round_draw(*, week: date, seed: str | None = None, per_stratum: int = DEFAULT_PER_STRATUM) -> AuditRound:
    """Draw the week's round once (a second call returns the same round)."""
    audit_round, created = AuditRound.objects.get_or_create(
        week=week, defaults={"seed": seed or f"marketsafe-{week.isoformat()}", "per_stratum": per_stratum}
    )
    if created:
        sample = audit_sample(week=week, seed=audit_round.seed, per_stratum=audit_round.per_stratum)
        AuditItem.objects.bulk_create(
            AuditItem(round=audit_round, item_id=pk, stratum=stratum, first_verdict=verdict, first_moderator_id=mod)
            for stratum, pk, verdict, mod in sample
        )
        audit_record(
            action="audit_round.draw",
            target=audit_round,
            automated=True,
            data={"items": len(sample), "week": str(week)},
        )
    return audit_round


def last_week(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return today - timedelta(days=today.weekday() + 7)


def _locked(*, audit_id: int, actor: Any, permission: str, refusal: str, state: str, verdict: str) -> AuditItem:
    """The audit, locked, once the actor may act on it in its current state with a valid verdict."""
    if not actor.has_perm(permission):
        raise PermissionDenied(refusal)
    if verdict not in AuditVerdict.values:
        raise Conflict(f"Choose accept or reject; {verdict!r} is neither.")
    audit = AuditItem.objects.select_for_update().get(pk=audit_id)
    if audit.state != state:
        raise Conflict(f"Audit #{audit.pk} is already {audit.get_state_display().lower()}.")
    return audit


@transaction.atomic
def audit_item_decide(*, audit_id: int, auditor: Any, verdict: str) -> AuditItem:
    """The auditor's blind verdict; a disagreement goes to a lead."""
    audit = _locked(
        audit_id=audit_id,
        actor=auditor,
        permission=AUDIT_PERMISSION,
        refusal="Only quality auditors audit decisions.",
        state=AuditState.PENDING,
        verdict=verdict,
    )
    if audit.first_moderator_id == auditor.pk:
        raise Conflict("An auditor never audits their own decision: another auditor takes this one.")
    audit.auditor, audit.audit_verdict, audit.audited_at = auditor, verdict, timezone.now()
    audit.state = AuditState.AGREED if verdict == audit.first_verdict else AuditState.DISAGREED
    audit.save(update_fields=["auditor", "audit_verdict", "audited_at", "state"])
    audit_record(action="audit.decide", target=audit, actor=auditor, from_state="pending", to_state=audit.state)
    return audit


@transaction.atomic
def audit_item_resolve(*, audit_id: int, lead: Any, verdict: str) -> AuditItem:
    """A lead who made neither decision says which one was right."""
    audit = _locked(
        audit_id=audit_id,
        actor=lead,
        permission=RESOLVE_PERMISSION,
        refusal="Only moderation leads resolve audit disagreements.",
        state=AuditState.DISAGREED,
        verdict=verdict,
    )
    if lead.pk in (audit.first_moderator_id, audit.auditor_id):
        raise Conflict("A lead who made one of the two decisions does not resolve their disagreement.")
    audit.resolved_verdict, audit.resolved_by, audit.state = verdict, lead, AuditState.RESOLVED
    audit.save(update_fields=["resolved_verdict", "resolved_by", "state"])
    audit_record(action="audit.resolve", target=audit, actor=lead, from_state="disagreed", to_state=audit.state)
    return audit


# --- figures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    label: str
    audited: int
    right: int
    low: float
    high: float
    below_threshold: bool = False

    @property
    def rate(self) -> float:
        return self.right / self.audited if self.audited else 0.0


@dataclass(frozen=True)
class AuditReport:
    moderators: list[Accuracy]
    members: list[Accuracy]
    kappa: float | None
    audited: int
    threshold: float
    min_audited: int


def audit_report() -> AuditReport:
    """Each moderator's audited accuracy (first decisions that stood), each brand's (its audited reports that
    were founded), with Wilson 95% intervals; kappa between first decisions and audits. A brand with at
    least `PROGRAM_MIN_AUDITED` audits whose accuracy is under the program's minimum acceptance rate is
    marked below threshold (the nightly check flags it: `brands.selectors.program_standing`)."""
    audits = list(AuditItem.objects.exclude(state=AuditState.PENDING).select_related("first_moderator", "item__brand"))
    by_moderator: defaultdict[str, list[bool]] = defaultdict(list)
    by_brand: defaultdict[str, list[bool]] = defaultdict(list)
    for audit in audits:
        if audit.right_verdict:
            by_moderator[audit.first_moderator.get_username()].append(audit.first_verdict == audit.right_verdict)
            by_brand[audit.item.brand.name].append(audit.right_verdict == AuditVerdict.ACCEPT)
    threshold = settings.MARKETSAFE["PROGRAM_MIN_ACCEPTANCE_RATE"]
    min_audited = settings.MARKETSAFE["PROGRAM_MIN_AUDITED"]

    def rows(groups: dict[str, list[bool]], *, judged: bool) -> list[Accuracy]:
        out = []
        for label in sorted(groups):
            n, right = len(groups[label]), sum(groups[label])
            low, high = wilson_interval(right, n)
            below = judged and n >= min_audited and right / n < threshold
            out.append(Accuracy(label, n, right, low, high, below_threshold=below))
        return out

    return AuditReport(
        moderators=rows(by_moderator, judged=False),
        members=rows(by_brand, judged=True),
        kappa=cohen_kappa((a.first_verdict, a.audit_verdict) for a in audits),
        audited=len(audits),
        threshold=threshold,
        min_audited=min_audited,
    )


_FOUNDED = Q(state=AuditState.AGREED, first_verdict=AuditVerdict.ACCEPT) | Q(
    state=AuditState.RESOLVED, resolved_verdict=AuditVerdict.ACCEPT
)


def members_audited_accuracy(
    *, brand_ids: Sequence[int], now: datetime, window: timedelta
) -> dict[int, AuditedAccuracy]:
    """brand id → its audited accuracy over the rounds of `window` up to `now` (settled audits only), in one
    query: the source of `brands.selectors.track_records`' audit figures (SafeguardsConfig.ready), which the
    program's nightly check judges like the monitored rates."""
    since = timezone.localdate(now - window)
    rows = (
        AuditItem.objects.filter(
            item__brand_id__in=list(brand_ids),
            round__week__gte=since,
            state__in=[AuditState.AGREED, AuditState.RESOLVED],
        )
        .order_by()
        .values_list("item__brand_id")
        .annotate(audited=Count("pk"), founded=Count("pk", filter=_FOUNDED))
    )
    return {
        brand_id: AuditedAccuracy(audited, founded, *wilson_interval(founded, audited))
        for brand_id, audited, founded in rows
    }


CSV_HEADER = ("group", "name", "audited", "right", "accuracy", "wilson_low", "wilson_high", "below_threshold")


def audit_report_rows(report: AuditReport) -> list[tuple[Any, ...]]:
    """The report's CSV rows (`core.csvexport.csv_response` neutralises formula cells)."""
    rows: list[tuple[Any, ...]] = [
        (group, a.label, a.audited, a.right, f"{a.rate:.4f}", f"{a.low:.4f}", f"{a.high:.4f}", a.below_threshold)
        for group, accuracies in (("moderator", report.moderators), ("member", report.members))
        for a in accuracies
    ]
    kappa = "" if report.kappa is None else f"{report.kappa:.4f}"
    rows.append(("kappa", "first decision vs audit", report.audited, "", kappa, "", "", ""))
    return rows
