"""Reads of the brand portal: the case and item lists and their exports, a case with everything on it,
the audit timeline of a case's items, and the dashboard's figures.

Every function reads through the tenant scope (`for_user(user, brand=...)`) and runs a fixed number of
queries whatever the number of rows: related rows are joined (`select_related`) or fetched once per
page (`prefetch_related`), per-row counts are correlated subqueries that PostgreSQL runs for the rows of
the page only, and the dashboard's figures are aggregates computed by the database.
"""

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from brands.choices import Lane
from brands.models import Brand, IPRight, IPRightDocument
from brands.selectors import Accuracy, AccuracyRates, TrackRecord, brand_lane
from cases.choices import AppealStatus, CounterNoticeAnswer, ItemStatus, ReasonCode
from cases.models import Appeal, Case, CaseItem, CounterNotice, Declaration, Evidence, StatementOfReasons
from core.admin.mixins import correlated_aggregate
from core.audit.models import AuditEvent
from listings.models import Listing, SellerPenalty, Strike

S = ItemStatus

#: Items whose next step is the brand's: answer a clarification request or a counter-notice.
ITEM_WAITING_FOR_BRAND = (S.CLARIFICATION_REQUESTED, S.COUNTER_NOTICED)
#: Items whose story is not over: waiting for a decision, for the seller, for the brand or for an appeal.
ITEM_ACTIVE_STATUSES = (S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.ACCEPTED, S.COUNTER_NOTICED, S.APPEALED)

# --- lists and exports ----------------------------------------------------------------------------

#: The columns the item list shows; nothing else is read.
ITEM_LIST_FIELDS = (
    "id",
    "case_id",
    "status",
    "reason_code",
    "lane",
    "submitted_at",
    "sla_due_at",
    "clarification_due_at",
    "counter_notice_due_at",
    "brand_answer_due_at",
    "appeal_until",
    "listing__url",
    "listing__title",
    "listing__marketplace__name",
    "listing__seller__name",
    "listing__seller__external_id",
)


def item_list(*, user: Any, brand: Brand) -> QuerySet[CaseItem]:
    """The brand's items with their listing, marketplace and seller, newest first."""
    return (
        CaseItem.objects.for_user(user, brand=brand)
        .select_related("listing__marketplace", "listing__seller")
        .only(*ITEM_LIST_FIELDS)
        .order_by("-submitted_at", "-pk")
    )


@functools.cache
def _case_counts() -> dict[str, Any]:
    """The case list's per-case counts, built once per process: building the three correlated subqueries was
    a tenth of the case page's time, and a query copies the expressions it resolves, so they can be shared.
    They name no brand or user: the scope is the outer query's."""
    return {
        "item_count": correlated_aggregate(CaseItem.objects.all(), fk="case", aggregate=Count("pk")),
        "open_count": correlated_aggregate(CaseItem.objects.open(), fk="case", aggregate=Count("pk")),
        "waiting_count": correlated_aggregate(
            CaseItem.objects.filter(status__in=ITEM_WAITING_FOR_BRAND), fk="case", aggregate=Count("pk")
        ),
    }


def case_list(*, user: Any, brand: Brand) -> QuerySet[Case]:
    """The brand's cases, newest first, each with its number of items and of items waiting for the brand."""
    return (
        Case.objects.for_user(user, brand=brand)
        .only("id", "status", "reason_code", "lane", "channel", "automated", "submitted_at")
        .annotate(**_case_counts())
        .order_by("-submitted_at", "-pk")
    )


#: (CSV header, field path) of the item export: codes rather than labels, so the file feeds other tools.
ITEM_EXPORT_COLUMNS = (
    ("item", "id"),
    ("case", "case_id"),
    ("listing_url", "listing__url"),
    ("listing_title", "listing__title"),
    ("marketplace", "listing__marketplace__slug"),
    ("seller_id", "listing__seller__external_id"),
    ("seller_name", "listing__seller__name"),
    ("reason_code", "reason_code"),
    ("lane", "lane"),
    ("status", "status"),
    ("submitted_at", "submitted_at"),
    ("decided_at", "decided_at"),
    ("rejection_code", "rejection_code"),
    ("counter_notice_due_at", "counter_notice_due_at"),
    ("brand_answer_due_at", "brand_answer_due_at"),
    ("appeal_until", "appeal_until"),
)

CASE_EXPORT_COLUMNS = (
    ("case", "id"),
    ("submitted_at", "submitted_at"),
    ("status", "status"),
    ("reason_code", "reason_code"),
    ("lane", "lane"),
    ("channel", "channel"),
    ("items", "item_count"),
    ("open_items", "open_count"),
    ("waiting_for_brand", "waiting_count"),
)

#: Rows fetched per round trip while streaming an export (a server-side cursor: memory stays flat).
EXPORT_CHUNK_SIZE = 2000


def export_rows(queryset: QuerySet, columns: Sequence[tuple[str, str]]) -> Iterator[tuple]:
    """Stream `columns` of the (already filtered and ordered) `queryset`, one tuple per row."""
    return queryset.values_list(*(path for _, path in columns)).iterator(chunk_size=EXPORT_CHUNK_SIZE)


# --- a case and its items -------------------------------------------------------------------------


def case_detail(*, user: Any, brand: Brand) -> QuerySet[Case]:
    """Cases with what the case page shows about the case itself (its items are read page by page)."""
    return (
        Case.objects.for_user(user, brand=brand)
        .select_related("filed_by")
        .prefetch_related(
            # Scoped like the cases themselves: a relation never brings back another brand's rows.
            Prefetch("rights", queryset=IPRight.objects.for_brand(brand)),
            Prefetch("declarations", queryset=Declaration.objects.for_brand(brand)),
            Prefetch("evidence", queryset=Evidence.objects.for_brand(brand).filter(item__isnull=True).order_by("pk")),
        )
    )


def case_items(*, user: Any, brand: Brand, case: Case) -> QuerySet[CaseItem]:
    """A case's items, each with its listing, counter-notices (and the brand's evidence), appeals and
    statements of reasons: one query per relation for a page of items."""
    return (
        CaseItem.objects.for_user(user, brand=brand)
        .filter(case=case)
        .select_related("listing__marketplace", "listing__seller")
        .prefetch_related(
            Prefetch(
                "counter_notices",
                queryset=CounterNotice.objects.for_brand(brand)
                .order_by("attempt")
                .prefetch_related(
                    Prefetch("brand_evidence", queryset=Evidence.objects.for_brand(brand).order_by("pk"))
                ),
            ),
            Prefetch("appeals", queryset=Appeal.objects.for_brand(brand).order_by("filed_at")),
            Prefetch("statements", queryset=StatementOfReasons.objects.for_brand(brand)),
        )
        .order_by("pk")
    )


def case_item_status_counts(*, user: Any, brand: Brand, case: Case) -> list[tuple[str, int]]:
    """(status label, count) of a case's items, in lifecycle order."""
    counts = dict(
        CaseItem.objects.for_user(user, brand=brand)
        .filter(case=case)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return [(status.label, counts[status]) for status in ItemStatus if status in counts]


@dataclass(frozen=True)
class CaseTimeline:
    case_events: list[AuditEvent]
    item_events: dict[int, list[AuditEvent]]


def case_timeline(*, brand: Brand, case: Case, item_ids: Sequence[int]) -> CaseTimeline:
    """The audit events of a case and of the given items, oldest first, in one query.

    `audit_timeline` reads one object's events; calling it per item would cost a query per item.
    """
    case_type = ContentType.objects.get_for_model(Case)
    item_type = ContentType.objects.get_for_model(CaseItem)
    events = (
        AuditEvent.objects.filter(brand_id=brand.pk)
        .filter(Q(target_type=case_type, target_id=case.pk) | Q(target_type=item_type, target_id__in=item_ids))
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
    case_events: list[AuditEvent] = []
    item_events: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.target_type_id == case_type.pk:
            case_events.append(event)
        else:
            item_events[event.target_id].append(event)
    return CaseTimeline(case_events=case_events, item_events=dict(item_events))


# --- dashboard ------------------------------------------------------------------------------------


class Percentile(Aggregate):
    """PostgreSQL's `PERCENTILE_CONT(fraction) WITHIN GROUP (ORDER BY expression)`."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"A percentile is a fraction between 0 and 1, not {fraction}.")
        # A float from our own code is formatted into the SQL; nothing user-supplied reaches it.
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    """The length of an interval in seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


#: Statuses an item reaches only after the marketplace accepted the report (the listing was removed).
ACCEPTED_OUTCOMES = (S.ACCEPTED, S.COUNTER_NOTICED, S.UPHELD, S.FINAL, S.REINSTATED)


# An item under appeal counts as the decision its open appeal contests. Appeals and counter-notices are
# looked at through uncorrelated subqueries (`id IN (SELECT ...)`), which PostgreSQL hashes once rather
# than probing once per item: correlated EXISTS made the planner's estimate large enough to trigger JIT
# compilation, which took longer than the query. They are not scoped to the brand: they only test the
# brand's own items for membership, and scoping them would need a join over all the brand's items.
_CONTESTS_REJECTION = Appeal.objects.filter(status=AppealStatus.OPEN, contested_status=S.REJECTED).values("item_id")
_REINSTATED_ON_COUNTER_NOTICE = CounterNotice.objects.filter(
    answer__in=[CounterNoticeAnswer.ACCEPTED, CounterNoticeAnswer.LAPSED]
).values("item_id")

ACCEPTED = Q(status__in=ACCEPTED_OUTCOMES) | (Q(status=S.APPEALED) & ~Q(pk__in=_CONTESTS_REJECTION))
REJECTED = Q(status=S.REJECTED) | Q(status=S.APPEALED, pk__in=_CONTESTS_REJECTION)
DECIDED = ACCEPTED | REJECTED
SUCCESSFUL_COUNTER_NOTICE = ACCEPTED & Q(pk__in=_REINSTATED_ON_COUNTER_NOTICE)


def _accuracy_counts() -> dict[str, Aggregate]:
    return {
        "decided": Count("pk", filter=DECIDED),
        "accepted": Count("pk", filter=ACCEPTED),
        "successful_counter_notices": Count("pk", filter=SUCCESSFUL_COUNTER_NOTICE),
    }


def _decision_times() -> dict[str, Aggregate]:
    """The time to decision's median and 95th percentile (a sort of the decided items each)."""
    time_to_decision = EpochSeconds(F("decided_at") - F("submitted_at"))
    return {
        "median_seconds": Percentile(time_to_decision, fraction=0.5, filter=DECIDED),
        "p95_seconds": Percentile(time_to_decision, fraction=0.95, filter=DECIDED),
    }


@dataclass(frozen=True)
class AccuracyFigures(AccuracyRates):
    """A brand's notifier accuracy over a window, overall or for one reason code.

    - Decided: items whose report the marketplace accepted or rejected in the window (by `decided_at`;
      clarification requests and withdrawn items are no decision; an item under appeal counts as the
      decision it contests).
    - Acceptance rate: accepted / decided.
    - Successful counter-notice rate: accepted items whose seller's counter-notice succeeded (the brand
      accepted it, or let its deadline lapse: either way the listing was reinstated) / accepted items.
      An appeal that overturns a removal is not a counter-notice and does not count here.
    - Time to decision: from the item's (re)submission to the decision, median and 95th percentile
      (overall only: the percentiles' sorts cost as much as all the counts together).
    """

    reason_code: str
    decided: int
    accepted: int
    successful_counter_notices: int
    median_seconds: float | None = None
    p95_seconds: float | None = None

    @property
    def label(self) -> str:
        return ReasonCode(self.reason_code).label if self.reason_code else "All reasons"


@dataclass(frozen=True)
class WeekPoint:
    week: date
    filed: int
    decided: int


@dataclass(frozen=True)
class Dashboard:
    active_by_status: list[tuple[str, str, int]]
    waiting: list[CaseItem]
    waiting_total: int
    overall: AccuracyFigures
    by_reason: list[AccuracyFigures]
    weeks: list[WeekPoint]
    window_days: int


def _week_start(moment: datetime) -> date:
    day = timezone.localdate(moment)
    return day - timedelta(days=day.weekday())


def dashboard(
    *, user: Any, brand: Brand, now: datetime | None = None, window_days: int = 90, weeks: int = 12, waiting: int = 10
) -> Dashboard:
    """The brand's dashboard figures: six queries, whatever the number of items."""
    now = now or timezone.now()
    items = CaseItem.objects.for_user(user, brand=brand).order_by()

    active = dict(items.filter(status__in=ITEM_ACTIVE_STATUSES).values_list("status").annotate(n=Count("pk")))
    waiting_items = list(
        items.filter(status__in=ITEM_WAITING_FOR_BRAND)
        .select_related("listing")
        .only(
            "id", "case_id", "status", "clarification_due_at", "brand_answer_due_at", "listing__title", "listing__url"
        )
        .annotate(due=Coalesce("brand_answer_due_at", "clarification_due_at"))
        .order_by("due", "pk")[:waiting]
    )

    decided = items.filter(decided_at__gte=now - timedelta(days=window_days))
    overall = AccuracyFigures(reason_code="", **decided.aggregate(**_accuracy_counts(), **_decision_times()))
    by_reason = [
        AccuracyFigures(**row)
        for row in decided.values("reason_code").annotate(**_accuracy_counts()).order_by("reason_code")
        if row["decided"]
    ]

    first_week = _week_start(now) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first_week, datetime.min.time()))
    filed = _per_week(items.filter(submitted_at__gte=since), "submitted_at")
    decisions = _per_week(items.filter(DECIDED, decided_at__gte=since), "decided_at")
    series = [
        WeekPoint(week=week, filed=filed.get(week, 0), decided=decisions.get(week, 0))
        for week in (first_week + timedelta(weeks=n) for n in range(weeks))
    ]

    return Dashboard(
        active_by_status=[(status.value, status.label, active[status]) for status in ItemStatus if status in active],
        waiting=waiting_items,
        waiting_total=sum(active.get(status, 0) for status in ITEM_WAITING_FOR_BRAND),
        overall=overall,
        by_reason=by_reason,
        weeks=series,
        window_days=window_days,
    )


def _per_week(items: QuerySet[CaseItem], field: str) -> dict[date, int]:
    rows = items.annotate(week=TruncWeek(field)).values_list("week").annotate(n=Count("pk")).order_by()
    return {timezone.localdate(week): n for week, n in rows}


def listings_under_dispute(listing_ids: Iterable[int]) -> set[int]:
    """Listings a batch delisting must leave alone for now: a counter-notice or an appeal on one of their
    reports is pending, and its outcome decides. Registered with the delisting engine in CasesConfig.ready()."""
    # The ids go as ONE array parameter: a chunk brings thousands, and an IN list of that many
    # placeholders costs more to build and parse than the lookup itself.
    in_chunk = RawSQL("SELECT unnest(%s::bigint[])", [list(listing_ids)])
    return set(
        CaseItem.objects.filter(
            listing_id__in=in_chunk, status__in=[ItemStatus.COUNTER_NOTICED, ItemStatus.APPEALED]
        ).values_list("listing_id", flat=True)
    )


# --- the moderator console ------------------------------------------------------------------------
# Staff reads for the admin: moderators see every brand's cases (the admin checks their permissions),
# so these read by id rather than through a brand member's tenant scope.


def brand_accuracy(*, brand_id: int, now: datetime | None = None, window_days: int = 90) -> AccuracyFigures:
    """A brand's notifier accuracy over the window, as the moderator weighs its reports: one aggregate
    over the brand's items decided in the window (by the brand-and-decision-time index)."""
    now = now or timezone.now()
    decided = CaseItem.objects.filter(brand_id=brand_id, decided_at__gte=now - timedelta(days=window_days))
    return AccuracyFigures(reason_code="", **decided.aggregate(**_accuracy_counts()))


@dataclass(frozen=True)
class SellerHistory:
    """What a moderator weighs about the seller of a reported listing, across all brands' reports.

    - reports: items reporting any of the seller's listings;
    - removals: those whose report was accepted (the listing was removed, even if later reinstated);
    - strikes: the weight of the active ones (unexpired, not revoked: what the ladder counts) and all-time;
    - penalties: the latest applied, newest first.
    """

    reports: int
    removals: int
    active_strikes: int
    total_strikes: int
    penalties: list[SellerPenalty]


#: Penalties shown on an item's page; the seller's admin page lists them all.
SELLER_PENALTIES_SHOWN = 5


def seller_history(*, seller_id: int, now: datetime | None = None) -> SellerHistory:
    """The seller's record in four queries, whatever the number of its listings and strikes."""
    reports = CaseItem.objects.filter(listing__seller_id=seller_id).aggregate(
        reports=Count("pk"), removals=Count("pk", filter=ACCEPTED)
    )
    strikes = Strike.objects.filter(seller_id=seller_id)
    penalties = SellerPenalty.objects.filter(seller_id=seller_id).order_by("-applied_at", "-pk")
    return SellerHistory(
        **reports,
        # The policy's own definition of an active strike, rather than a copy of it in an aggregate.
        active_strikes=strikes.active(now).weight(),
        total_strikes=strikes.count(),
        penalties=list(penalties[:SELLER_PENALTIES_SHOWN]),
    )


def item_timeline(item: CaseItem) -> list[AuditEvent]:
    """The audit events of an item and of its listing, oldest first, in one query.

    The listing's own events show what else happened to it: a removal or reinstatement caused by another
    brand's report, a delisting job or a seller's suspension.
    """
    item_type = ContentType.objects.get_for_model(CaseItem)
    listing_type = ContentType.objects.get_for_model(Listing)
    return list(
        AuditEvent.objects.filter(
            Q(target_type=item_type, target_id=item.pk) | Q(target_type=listing_type, target_id=item.listing_id)
        )
        .select_related("actor", "target_type")
        .order_by("occurred_at", "id")
    )


@dataclass(frozen=True)
class ItemConsole:
    """Everything the moderator's item page shows besides the item's own columns."""

    rights: list[IPRight]
    evidence: list[Evidence]
    statements: list[StatementOfReasons]
    counter_notices: list[CounterNotice]
    appeals: list[Appeal]
    brand_lane: str
    accuracy: AccuracyFigures
    seller: SellerHistory | None
    timeline: list[AuditEvent]


def item_console(item: CaseItem) -> ItemConsole:
    """The item page's reads: a fixed number of queries (about a dozen), whatever the case's size.

    Evidence is the case-wide evidence plus this item's own (including what the brand attached to answer
    a counter-notice), never another item's.
    """
    rights = list(
        IPRight.objects.filter(cases__id=item.case_id)
        .prefetch_related(Prefetch("documents", queryset=IPRightDocument.objects.order_by("pk")))
        .order_by("name", "pk")
    )
    evidence = list(
        Evidence.objects.filter(Q(item__isnull=True) | Q(item_id=item.pk), case_id=item.case_id)
        .select_related("counter_notice")
        .order_by("pk")
    )
    seller_id = item.listing.seller_id
    return ItemConsole(
        rights=rights,
        evidence=evidence,
        statements=list(item.statements.select_related("moderator").order_by("-created_at", "-pk")),
        counter_notices=list(item.counter_notices.select_related("answered_by").order_by("attempt")),
        appeals=list(item.appeals.select_related("original_decider", "decided_by").order_by("filed_at", "pk")),
        brand_lane=brand_lane(item.brand),
        accuracy=brand_accuracy(brand_id=item.brand_id),
        seller=seller_history(seller_id=seller_id) if seller_id else None,
        timeline=item_timeline(item),
    )


# --- the MarketSafe program -----------------------------------------------------------------------
# Figures of brands as a whole, for the association: never an item, a listing or a seller.


def program_track_records(
    *, brand_ids: Sequence[int], now: datetime, window: timedelta, lane: str = ""
) -> dict[int, TrackRecord]:
    """The brands' accuracy over the window, overall and per reason code, in one grouped query (registered
    as `brands.selectors.track_records`' source). `lane` limits it to one lane: an applicant's track record
    is its standard-lane history, where every notice carried evidence and was weighed on it."""
    since = now - window
    filed = Q(submitted_at__gte=since, submitted_at__lte=now)
    decided_in_window = Q(decided_at__gte=since, decided_at__lte=now)
    items = CaseItem.objects.filter(brand_id__in=list(brand_ids)).filter(filed | decided_in_window)
    if lane:
        items = items.filter(lane=lane)
    rows = (
        items.order_by()
        .values("brand_id", "reason_code")
        .annotate(
            filed=Count("pk", filter=filed),
            decided=Count("pk", filter=DECIDED & decided_in_window),
            accepted=Count("pk", filter=ACCEPTED & decided_in_window),
            successful_counter_notices=Count("pk", filter=SUCCESSFUL_COUNTER_NOTICE & decided_in_window),
        )
    )
    per_brand: dict[int, list[Accuracy]] = defaultdict(list)
    for row in rows:
        code = row["reason_code"]
        per_brand[row["brand_id"]].append(
            Accuracy(
                reason_code=code,
                label=ReasonCode(code).label,
                filed=row["filed"],
                decided=row["decided"],
                accepted=row["accepted"],
                successful_counter_notices=row["successful_counter_notices"],
            )
        )
    counted = ("filed", "decided", "accepted", "successful_counter_notices")
    records = {}
    for brand_id in brand_ids:
        by_reason = sorted(per_brand.get(brand_id, []), key=lambda figures: figures.reason_code)
        overall = Accuracy(
            reason_code="",
            label="All reasons",
            **{name: sum(getattr(figures, name) for figures in by_reason) for name in counted},
        )
        records[brand_id] = TrackRecord(
            brand_id=brand_id, window_days=window.days, lane=lane, overall=overall, by_reason=by_reason
        )
    return records


@dataclass(frozen=True)
class LaneMonth:
    month: date
    lane: str
    filed: int
    decided: int
    accepted: int


@dataclass(frozen=True)
class LaneSummary:
    lane: str
    label: str
    filed: int
    decided: int
    accepted: int
    median_seconds: float | None

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


@dataclass(frozen=True)
class LaneFigures:
    months: list[date]
    per_month: list[LaneMonth]
    lanes: list[LaneSummary]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def lane_figures(*, now: datetime | None = None, months: int = 12) -> LaneFigures:
    """Items filed and decided per month and lane over the last `months` months (this one included), and
    per lane over the whole period: acceptance rate and median time to decision. Three grouped queries."""
    now = now or timezone.now()
    first = _month_start(timezone.localdate(now))
    for _ in range(months - 1):
        first = _month_start(first - timedelta(days=1))
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    all_items = CaseItem.objects.order_by()
    filed = {
        (timezone.localdate(row["month"]), row["lane"]): row["n"]
        for row in all_items.filter(submitted_at__gte=since)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month", "lane")
        .annotate(n=Count("pk"))
    }
    decisions = all_items.filter(DECIDED, decided_at__gte=since)
    decided = {
        (timezone.localdate(row["month"]), row["lane"]): row
        for row in decisions.annotate(month=TruncMonth("decided_at"))
        .values("month", "lane")
        .annotate(decided=Count("pk"), accepted=Count("pk", filter=ACCEPTED))
    }
    per_lane = {
        row["lane"]: row
        for row in decisions.values("lane").annotate(
            decided=Count("pk"),
            accepted=Count("pk", filter=ACCEPTED),
            median_seconds=Percentile(EpochSeconds(F("decided_at") - F("submitted_at")), fraction=0.5),
        )
    }
    month_list = [first]
    while len(month_list) < months:
        month_list.append(_month_start(month_list[-1] + timedelta(days=32)))
    lanes = (Lane.EXPEDITED, Lane.STANDARD)
    per_month = [
        LaneMonth(
            month=month,
            lane=lane.value,
            filed=filed.get((month, lane.value), 0),
            decided=decided.get((month, lane.value), {}).get("decided", 0),
            accepted=decided.get((month, lane.value), {}).get("accepted", 0),
        )
        for month in month_list
        for lane in lanes
    ]
    summaries = [
        LaneSummary(
            lane=lane.value,
            label=lane.label,
            filed=sum(point.filed for point in per_month if point.lane == lane.value),
            decided=per_lane.get(lane.value, {}).get("decided", 0),
            accepted=per_lane.get(lane.value, {}).get("accepted", 0),
            median_seconds=per_lane.get(lane.value, {}).get("median_seconds"),
        )
        for lane in lanes
    ]
    return LaneFigures(months=month_list, per_month=per_month, lanes=summaries)
