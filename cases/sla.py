"""Reads of the moderators' SLA page (`/admin/sla/`): the review queue per lane, how fast moderators
decide, and who decided what.

Everything is an aggregate computed by PostgreSQL, in a fixed number of queries whatever the number of
items (seven: the queue, its oldest items, decision times per lane and overall, item decisions and appeal
decisions per moderator, decisions per day).

What counts:

- The queue: items waiting for a moderator's first answer (submitted or in review), the rows of the
  review-queue index. A breach is a queued item past its `sla_due_at`.
- A decision: a moderator's answer to a (re)submitted report, i.e. accepting it, rejecting it or asking
  the brand for a clarification (each stops the SLA clock and sets `decided_at`/`decided_by`; a
  resubmission starts a new clock). Rejections applied by the deadline rule have no moderator and are
  left out. An item whose decision an appeal overturned is left out too: its `decided_at` is then the
  appeal's, which says nothing about the time the first answer took (the appeal is counted for the
  moderator who decided it).
- Time to decision: from the item's (re)submission to the decision, by `decided_at` in the window.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Aggregate, Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from brands.choices import Lane
from cases.choices import AppealStatus, ItemStatus
from cases.models import Appeal, CaseItem
from cases.selectors import EpochSeconds, Percentile

S = ItemStatus

#: Items waiting for a moderator: the condition of the review-queue index.
QUEUE_STATUSES = (S.SUBMITTED, S.IN_REVIEW)
#: Lanes in priority order.
LANES = (Lane.EXPEDITED, Lane.STANDARD)
#: The windows (in days) of the decision figures.
WINDOWS = (7, 30)

_OVERTURNED = Appeal.objects.filter(status=AppealStatus.OVERTURNED).values("item_id")
#: A moderator's own answer to a (re)submitted report (see the module's docstring).
MODERATOR_DECISION = Q(decided_by__isnull=False) & ~Q(pk__in=_OVERTURNED)
WITHIN_SLA = Q(decided_at__lte=F("sla_due_at"))


@dataclass(frozen=True)
class OldestItem:
    pk: int
    submitted_at: datetime
    sla_due_at: datetime


@dataclass(frozen=True)
class LaneQueue:
    lane: str
    label: str
    sla_hours: int
    open: int
    breached: int
    oldest: OldestItem | None


@dataclass(frozen=True)
class DecisionTimes:
    """Decisions of one window: how many, how many within their SLA, and the time they took."""

    days: int
    decided: int
    within_sla: int
    median_seconds: float | None
    p95_seconds: float | None

    @property
    def within_sla_rate(self) -> float | None:
        return self.within_sla / self.decided if self.decided else None


@dataclass(frozen=True)
class LaneTimes:
    """One row of the decision-time table: a lane, or all lanes (`lane` empty)."""

    lane: str
    label: str
    windows: list[DecisionTimes]


@dataclass(frozen=True)
class ModeratorDecisions:
    """One moderator's item decisions and appeal decisions, one count per window (as `WINDOWS`)."""

    user_id: int
    name: str
    items: list[int]
    appeals: list[int]

    @property
    def counts(self) -> list[tuple[int, int]]:
        """(item decisions, appeal decisions) per window."""
        return list(zip(self.items, self.appeals, strict=True))


@dataclass(frozen=True)
class DayPoint:
    day: date
    within_sla: int
    late: int


@dataclass(frozen=True)
class SLAFigures:
    now: datetime
    windows: tuple[int, ...]
    queues: list[LaneQueue]
    times: list[LaneTimes]
    moderators: list[ModeratorDecisions]
    days: list[DayPoint]

    @property
    def open_total(self) -> int:
        return sum(queue.open for queue in self.queues)

    @property
    def breached_total(self) -> int:
        return sum(queue.breached for queue in self.queues)


def sla_figures(*, now: datetime | None = None, chart_days: int = 14) -> SLAFigures:
    """The SLA page's figures as of `now`; the chart covers the last `chart_days` days, today included."""
    now = now or timezone.now()
    return SLAFigures(
        now=now,
        windows=WINDOWS,
        queues=_queues(now),
        times=_decision_times(now),
        moderators=_moderators(now),
        days=_days(now, chart_days),
    )


def _queues(now: datetime) -> list[LaneQueue]:
    queued = CaseItem.objects.filter(status__in=QUEUE_STATUSES).order_by()
    counts = {
        row["lane"]: row
        for row in queued.values("lane").annotate(open=Count("pk"), breached=Count("pk", filter=Q(sla_due_at__lt=now)))
    }
    # The oldest item of each lane: PostgreSQL's DISTINCT ON keeps the first row of each lane.
    oldest = {
        row["lane"]: OldestItem(pk=row["pk"], submitted_at=row["submitted_at"], sla_due_at=row["sla_due_at"])
        for row in queued.order_by("lane", "submitted_at", "pk")
        .distinct("lane")
        .values("lane", "pk", "submitted_at", "sla_due_at")
    }
    sla_hours = settings.MARKETSAFE["SLA_HOURS"]
    return [
        LaneQueue(
            lane=lane.value,
            label=lane.label,
            sla_hours=sla_hours[lane.value],
            open=counts.get(lane.value, {}).get("open", 0),
            breached=counts.get(lane.value, {}).get("breached", 0),
            oldest=oldest.get(lane.value),
        )
        for lane in LANES
    ]


def _time_aggregates(now: datetime) -> dict[str, Aggregate]:
    time_to_decision = EpochSeconds(F("decided_at") - F("submitted_at"))
    aggregates: dict[str, Aggregate] = {}
    for days in WINDOWS:
        window = Q(decided_at__gte=now - timedelta(days=days))
        aggregates |= {
            f"decided_{days}": Count("pk", filter=window),
            f"within_sla_{days}": Count("pk", filter=window & WITHIN_SLA),
            f"median_seconds_{days}": Percentile(time_to_decision, fraction=0.5, filter=window),
            f"p95_seconds_{days}": Percentile(time_to_decision, fraction=0.95, filter=window),
        }
    return aggregates


def _windows(row: dict | None) -> list[DecisionTimes]:
    """The figures of `_time_aggregates` for each window; `row` is None for a lane without decisions."""
    row = row or {}
    return [
        DecisionTimes(
            days=days,
            decided=row.get(f"decided_{days}", 0),
            within_sla=row.get(f"within_sla_{days}", 0),
            median_seconds=row.get(f"median_seconds_{days}"),
            p95_seconds=row.get(f"p95_seconds_{days}"),
        )
        for days in WINDOWS
    ]


def _decided(now: datetime, days: int) -> QuerySet[CaseItem]:
    """Moderators' decisions of the last `days` days."""
    since = now - timedelta(days=days)
    return CaseItem.objects.filter(MODERATOR_DECISION, decided_at__gte=since, decided_at__lte=now).order_by()


def _decision_times(now: datetime) -> list[LaneTimes]:
    decided = _decided(now, max(WINDOWS))
    aggregates = _time_aggregates(now)
    per_lane = {row["lane"]: row for row in decided.values("lane").annotate(**aggregates)}
    # Percentiles do not add up across lanes: the overall row is its own aggregate.
    overall = decided.aggregate(**aggregates)
    return [
        *(LaneTimes(lane=lane.value, label=lane.label, windows=_windows(per_lane.get(lane.value))) for lane in LANES),
        LaneTimes(lane="", label="All lanes", windows=_windows(overall)),
    ]


def _per_user_counts(rows: QuerySet, user_field: str, now: datetime) -> dict[int, tuple[str, list[int]]]:
    """user id → (display name, one count per window) of `rows` grouped by `user_field`."""
    counts = {f"n_{days}": Count("pk", filter=Q(decided_at__gte=now - timedelta(days=days))) for days in WINDOWS}
    names = (f"{user_field}__username", f"{user_field}__first_name", f"{user_field}__last_name")
    result = {}
    for row in rows.values(user_field, *names).annotate(**counts).order_by():
        full_name = f"{row[names[1]]} {row[names[2]]}".strip()
        result[row[user_field]] = (full_name or row[names[0]], [row[f"n_{days}"] for days in WINDOWS])
    return result


def _moderators(now: datetime) -> list[ModeratorDecisions]:
    since = now - timedelta(days=max(WINDOWS))
    items = _per_user_counts(_decided(now, max(WINDOWS)), "decided_by", now)
    appeals = _per_user_counts(
        Appeal.objects.filter(decided_by__isnull=False, decided_at__gte=since, decided_at__lte=now), "decided_by", now
    )
    zero = [0] * len(WINDOWS)
    rows = [
        ModeratorDecisions(
            user_id=user_id,
            name=(items.get(user_id) or appeals[user_id])[0],
            items=items.get(user_id, ("", zero))[1],
            appeals=appeals.get(user_id, ("", zero))[1],
        )
        for user_id in items.keys() | appeals.keys()
    ]
    # Busiest first over the longest window, then by name.
    return sorted(rows, key=lambda row: (-(row.items[-1] + row.appeals[-1]), row.name.lower(), row.user_id))


def _days(now: datetime, chart_days: int) -> list[DayPoint]:
    first_day = timezone.localdate(now) - timedelta(days=chart_days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    rows = (
        _decided(now, chart_days)
        .filter(decided_at__gte=since)
        .annotate(day=TruncDate("decided_at"))
        .values("day")
        .annotate(within_sla=Count("pk", filter=WITHIN_SLA), late=Count("pk", filter=~WITHIN_SLA))
        .order_by()
    )
    per_day = {row["day"]: row for row in rows}
    days = (first_day + timedelta(days=n) for n in range(chart_days))
    return [
        DayPoint(
            day=day,
            within_sla=per_day.get(day, {}).get("within_sla", 0),
            late=per_day.get(day, {}).get("late", 0),
        )
        for day in days
    ]
