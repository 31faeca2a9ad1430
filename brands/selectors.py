"""Reads about brands that other apps rely on, and the MarketSafe program's figures."""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, ExpressionWrapper, F, FloatField
from django.db.models.functions import Extract, TruncMonth
from django.utils import timezone

from brands.choices import MEMBERSHIP_ACTIVE_STATUSES, ApplicationStatus, Lane, MembershipStatus
from brands.models import Brand, BrandMembership, ProgramApplication, ProgramMembership


def brand_lane(brand: Brand) -> str:
    """The lane a case filed now by `brand` takes: expedited while its MarketSafe membership is active and
    within its dates (a membership past its renewal date gives no expedited lane, even before the nightly
    check lapses it)."""
    if ProgramMembership.objects.filter(brand=brand).in_force().exists():
        return Lane.EXPEDITED
    return Lane.STANDARD


def membership_for(*, user, brand: Brand) -> BrandMembership | None:
    """The user's active membership of `brand`, or None (also for an anonymous user)."""
    return BrandMembership.objects.active_of(user, brand=brand).first()


# --- the MarketSafe program: accuracy figures --------------------------------------------------------
# Accuracy is computed from case items, which `brands` does not know (cases depends on brands, not the
# other way round). The cases app registers the function that computes it (CasesConfig.ready()); the
# review pages and the nightly check read it through `track_records`.


class AccuracyRates:
    """The two rates the program judges, from `decided`, `accepted` and `successful_counter_notices`
    (also the base of `cases.selectors.AccuracyFigures`, the brand's dashboard figures)."""

    decided: int
    accepted: int
    successful_counter_notices: int

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None

    @property
    def counter_notice_rate(self) -> float | None:
        return self.successful_counter_notices / self.accepted if self.accepted else None


@dataclass(frozen=True)
class Accuracy(AccuracyRates):
    """A brand's figures over a window, overall (`reason_code` empty) or for one reason code.

    `filed`: items filed in the window; `decided`: items accepted or rejected in the window; `accepted`:
    of those, accepted; `successful_counter_notices`: accepted items whose listing came back on the
    seller's counter-notice (definitions: `cases.selectors.AccuracyFigures`).
    """

    reason_code: str
    label: str
    filed: int
    decided: int
    accepted: int
    successful_counter_notices: int


@dataclass(frozen=True)
class AuditedAccuracy:
    """A member's quality-audit figures over a window: of `audited` reports whose audit is settled, how many
    were `founded` (the audit, or the lead resolving a disagreement, says the listing infringes), with the
    Wilson 95% interval of that proportion (`low`, `high`)."""

    audited: int
    founded: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.founded / self.audited if self.audited else 0.0


@dataclass(frozen=True)
class TrackRecord:
    brand_id: int
    window_days: int
    #: The lane the figures are limited to ("" for all lanes).
    lane: str
    overall: Accuracy
    by_reason: list[Accuracy]
    #: The quality audits' figures (`register_audited_accuracy_source`), for the program's judgement: set on
    #: records of all lanes when an audit source is registered; None otherwise.
    audited: AuditedAccuracy | None = None

    def judged(self, min_decisions: int) -> list[Accuracy]:
        """The figures with enough decisions to be judged: overall first, then each reason code."""
        return [figures for figures in (self.overall, *self.by_reason) if figures.decided >= min_decisions]


TrackRecordSource = Callable[..., dict[int, TrackRecord]]
_track_record_source: list[TrackRecordSource] = []


def register_track_record_source(source: TrackRecordSource) -> TrackRecordSource:
    """Set the function behind `track_records` (the cases app calls this once, from its AppConfig)."""
    _track_record_source[:] = [source]
    return source


#: `source(brand_ids=..., now=..., window=...)` → {brand id: AuditedAccuracy} of the brands with settled audits.
AuditedAccuracySource = Callable[..., dict[int, AuditedAccuracy]]
_audited_accuracy_source: list[AuditedAccuracySource] = []


def register_audited_accuracy_source(source: AuditedAccuracySource) -> AuditedAccuracySource:
    """Set the function that reads members' audited accuracy (the safeguards app, from its AppConfig): the
    program judges it with the monitored rates (`program_standing`)."""
    _audited_accuracy_source[:] = [source]
    return source


def track_records(
    *, brand_ids: Sequence[int], now: datetime | None = None, window: timedelta | None = None, lane: str = ""
) -> dict[int, TrackRecord]:
    """brand id → its figures over `window` (the program's accuracy window by default) up to `now`,
    limited to `lane` unless it is empty. Brands without items get zero figures."""
    if not _track_record_source:
        raise RuntimeError("No track record source registered: is the cases app installed?")
    now = now or timezone.now()
    window = window or settings.MARKETSAFE["PROGRAM_ACCURACY_WINDOW"]
    records = _track_record_source[0](brand_ids=list(brand_ids), now=now, window=window, lane=lane)
    if lane or not _audited_accuracy_source:
        return records
    audited = _audited_accuracy_source[0](brand_ids=list(brand_ids), now=now, window=window)
    return {brand_id: replace(record, audited=audited.get(brand_id)) for brand_id, record in records.items()}


@dataclass(frozen=True)
class Standing:
    """How a member's figures stand against the program's thresholds: "ok", "near" (within the margin of
    a threshold: warned) or "below" (a threshold is missed: suspended after the warning period)."""

    level: str
    notes: list[str]

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def program_standing(record: TrackRecord) -> Standing:
    """Judge every figure with enough decisions (overall and each reason code) against the thresholds, and
    the member's audited accuracy when the quality audits settled enough of its reports (`_judge_audited`)."""
    rules = settings.MARKETSAFE
    min_acceptance, max_counter = rules["PROGRAM_MIN_ACCEPTANCE_RATE"], rules["PROGRAM_MAX_COUNTER_NOTICE_RATE"]
    below, near = [], []
    for figures in record.judged(rules["PROGRAM_MIN_DECISIONS"]):
        acceptance, counter = figures.acceptance_rate, figures.counter_notice_rate
        if acceptance is not None:
            text = f"{figures.label}: acceptance rate {_percent(acceptance)} (at least {_percent(min_acceptance)})"
            if acceptance < min_acceptance:
                below.append(text)
            elif acceptance < min_acceptance + rules["PROGRAM_ACCEPTANCE_MARGIN"]:
                near.append(text)
        if counter is not None:
            text = f"{figures.label}: successful counter-notices {_percent(counter)} (at most {_percent(max_counter)})"
            if counter > max_counter:
                below.append(text)
            elif counter > max_counter - rules["PROGRAM_COUNTER_NOTICE_MARGIN"]:
                near.append(text)
    _judge_audited(record.audited, below, near)
    if below:
        return Standing("below", below + near)
    return Standing("near", near) if near else Standing("ok", [])


def _judge_audited(audited: AuditedAccuracy | None, below: list[str], near: list[str]) -> None:
    """The quality audits' verdict on a member, judged from `PROGRAM_MIN_AUDITED` settled audits against the
    minimum acceptance rate: an audited accuracy (founded / audited) under it flags the member ("near":
    warned); when even the upper end of its Wilson 95% interval is under it, the audits show the shortfall
    with 95% confidence and it counts as a missed threshold ("below": suspended after the warning period,
    like a missed rate). A small sample is never judged on its point estimate alone."""
    rules = settings.MARKETSAFE
    minimum = rules["PROGRAM_MIN_ACCEPTANCE_RATE"]
    if audited is None or audited.audited < rules["PROGRAM_MIN_AUDITED"] or audited.rate >= minimum:
        return
    text = (
        f"audited accuracy {_percent(audited.rate)} ({audited.founded} of {audited.audited} audited reports"
        f" founded, 95% interval {_percent(audited.low)} to {_percent(audited.high)}; at least {_percent(minimum)})"
    )
    (below if audited.high < minimum else near).append(text)


@dataclass(frozen=True)
class Thresholds:
    min_acceptance_rate: float
    max_counter_notice_rate: float
    min_decisions: int
    window_days: int
    #: Settled quality audits from which a member's audited accuracy is judged.
    min_audited: int = 0


def program_thresholds() -> Thresholds:
    rules = settings.MARKETSAFE
    return Thresholds(
        min_acceptance_rate=rules["PROGRAM_MIN_ACCEPTANCE_RATE"],
        max_counter_notice_rate=rules["PROGRAM_MAX_COUNTER_NOTICE_RATE"],
        min_decisions=rules["PROGRAM_MIN_DECISIONS"],
        window_days=rules["PROGRAM_ACCURACY_WINDOW"].days,
        min_audited=rules["PROGRAM_MIN_AUDITED"],
    )


# --- the program report -------------------------------------------------------------------------------

#: Flagged members listed on the program report (the membership list has them all).
FLAGGED_SHOWN = 100


def program_flagged_members(*, limit: int = FLAGGED_SHOWN) -> list[ProgramMembership]:
    """The members the nightly check flagged (warned: a monitored rate or the audited accuracy close to or
    under a threshold), longest flagged first, with the check's note: the association's watch list."""
    return list(
        ProgramMembership.objects.filter(status=MembershipStatus.WARNED)
        .select_related("brand")
        .only("brand__name", "brand__slug", "status", "warned_at", "below_thresholds_since", "accuracy_note")
        .order_by("warned_at", "pk")[:limit]
    )


@dataclass(frozen=True)
class ProgramOverview:
    """Members and applications, counted by status, and how long the association takes to decide."""

    members: list[tuple[str, str, int]]
    applications: list[tuple[str, str, int]]
    decided: int
    median_days_to_decide: float | None
    applications_per_month: list[tuple[date, int, int]]

    @property
    def active_members(self) -> int:
        return sum(count for status, _, count in self.members if status in MEMBERSHIP_ACTIVE_STATUSES)


def program_overview(*, now: datetime | None = None, months: int = 12) -> ProgramOverview:
    """Five queries, whatever the number of brands, and nothing about any one brand."""
    now = now or timezone.now()
    members = dict(ProgramMembership.objects.order_by().values_list("status").annotate(n=Count("pk")))
    applications = dict(ProgramApplication.objects.order_by().values_list("status").annotate(n=Count("pk")))
    decided = ProgramApplication.objects.filter(decided_at__isnull=False, submitted_at__isnull=False)
    days = ExpressionWrapper(Extract(F("decided_at") - F("submitted_at"), "epoch") / 86400.0, output_field=FloatField())
    # Applications number in the thousands at most (one or two per brand and year): the median is taken here.
    durations = list(decided.annotate(days=days).values_list("days", flat=True).order_by())
    first = timezone.localdate(now).replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    submitted = _by_month(ProgramApplication.objects.filter(submitted_at__gte=since), "submitted_at")
    decisions = _by_month(decided.filter(decided_at__gte=since), "decided_at")
    month_list = [first]
    while len(month_list) < months:
        month_list.append((month_list[-1] + timedelta(days=32)).replace(day=1))
    return ProgramOverview(
        members=[(s.value, str(s.label), members.get(s.value, 0)) for s in MembershipStatus],
        applications=[(s.value, str(s.label), applications.get(s.value, 0)) for s in ApplicationStatus],
        decided=len(durations),
        median_days_to_decide=statistics.median(durations) if durations else None,
        applications_per_month=[(m, submitted.get(m, 0), decisions.get(m, 0)) for m in month_list],
    )


def _by_month(queryset: models.QuerySet, field: str) -> dict[date, int]:
    rows = queryset.annotate(month=TruncMonth(field)).values_list("month").annotate(n=Count("pk")).order_by()
    return {timezone.localdate(month): n for month, n in rows}
