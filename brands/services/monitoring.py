"""The nightly check of the MarketSafe memberships (`memberships_monitor`, run by
`brands.tasks.monitor_program_memberships`).

Every current membership is checked once a night: it lapses after its renewal date; before it, the brand
is reminded at each window of `PROGRAM_RENEWAL_REMINDER_DAYS`; an active member's accuracy is judged
against the program's thresholds (`brands.selectors.program_standing`): warned when close to or below
one, suspended after `PROGRAM_WARNING_PERIOD` below one without a break, and the warning lifted when the
figures recover. The figures are the monitored rates and, from the quality audits, the audited accuracy
(`brands.selectors.program_standing`). A warning or a suspension is e-mailed to the brand and to the
association's reviewers (`program.mail_association`). The status moves go through `program.MEMBERSHIPS`, as
automated moves.
"""

import logging
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from brands.choices import MEMBERSHIP_ACTIVE_STATUSES, MEMBERSHIP_CURRENT_STATUSES
from brands.models import ProgramMembership
from brands.selectors import TrackRecord, program_standing, track_records
from brands.services.program import MEMBERSHIPS, M, mail_association, mail_membership, program_rules, suspend
from core.audit.services import audit_record
from core.queue import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)

#: Memberships whose track records are read in one query.
MONITOR_BATCH = 500

#: What the check writes on every membership it judges (besides a move's own fields, saved by the move).
CHECK_FIELDS = ["status", "warned_at", "checked_on", "below_thresholds_since", "accuracy_note", "renewal_reminder_days"]


def memberships_monitor(*, now: datetime | None = None) -> dict[str, int]:
    """Check every current membership once per night (idempotent: a membership checked today is skipped):
    lapse it after its renewal date, remind before it, and judge the accuracy of active members.

    Each membership is handled in its own transaction under its row lock, so a reviewer's decision and
    the check never overwrite each other and a failure leaves the others done. A database outage is
    raised (the task retries it); any other failure is logged and counted, and retried the next night.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = dict.fromkeys(("checked", "warned", "recovered", "suspended", "lapsed", "reminded", "failed"), 0)
    due = ProgramMembership.objects.filter(status__in=MEMBERSHIP_CURRENT_STATUSES).exclude(checked_on=today)
    last_pk = 0
    while True:
        batch = list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "brand_id")[:MONITOR_BATCH])
        if not batch:
            return counts
        last_pk = batch[-1][0]
        records = track_records(brand_ids=sorted({brand_id for _, brand_id in batch}), now=now)
        for membership_id, brand_id in batch:
            try:
                outcomes = _membership_check(membership_id=membership_id, record=records[brand_id], now=now)
            except DATABASE_UNAVAILABLE:
                # The database, not this membership: the task retries, skipping those checked already.
                raise
            except Exception:
                # One membership's failure (rolled back, retried the next night) does not stop the others.
                logger.exception("MarketSafe check of membership %s failed", membership_id)
                outcomes = ["failed"]
            for outcome in outcomes:
                counts[outcome] += 1


@transaction.atomic
def _membership_check(*, membership_id: int, record: TrackRecord, now: datetime) -> list[str]:
    today = timezone.localdate(now)
    membership = MEMBERSHIPS.lock(membership_id)
    if membership.checked_on == today or membership.status not in MEMBERSHIP_CURRENT_STATUSES:
        return []
    outcomes = ["checked"]
    membership.checked_on = today
    if membership.renews_on < today:
        MEMBERSHIPS.move(
            membership,
            "lapse",
            M.LAPSED,
            automated=True,
            reason=f"Not renewed by {membership.renews_on:%Y-%m-%d}.",
            ended_at=now,
            checked_on=today,
        )
        mail_membership(
            membership,
            subject="your membership has lapsed",
            paragraphs=[
                f"The MarketSafe membership of {membership.brand} lapsed on its renewal date,"
                f" {membership.renews_on:%d %B %Y}. New notices take the standard lane.",
                "Apply again from your program page to rejoin.",
            ],
        )
        return [*outcomes, "lapsed"]
    if membership.status in MEMBERSHIP_ACTIVE_STATUSES:
        outcomes += _remind(membership, today)
        outcomes += _judge(membership, record, now)
    membership.save(update_fields=CHECK_FIELDS)
    return outcomes


def _remind(membership: ProgramMembership, today: date) -> list[str]:
    days_left = (membership.renews_on - today).days
    windows = [days for days in program_rules()["PROGRAM_RENEWAL_REMINDER_DAYS"] if days_left <= days]
    if not windows:
        return []
    window = min(windows)
    if membership.renewal_reminder_days is not None and membership.renewal_reminder_days <= window:
        return []
    membership.renewal_reminder_days = window
    audit_record(
        action="membership.renewal_reminder",
        target=membership,
        automated=True,
        brand_id=membership.brand_id,
        data={"renews_on": membership.renews_on.isoformat(), "days_left": days_left},
    )
    mail_membership(
        membership,
        subject=f"your membership renews on {membership.renews_on:%d %B %Y}",
        paragraphs=[
            f"The MarketSafe membership of {membership.brand} ends on {membership.renews_on:%d %B %Y}"
            f" ({days_left} days from now) unless it is renewed.",
            "To renew, submit a new application from your program page; the association reviews it and the"
            " new membership takes over from the current one.",
        ],
    )
    return ["reminded"]


def _judge(membership: ProgramMembership, record: TrackRecord, now: datetime) -> list[str]:
    """Judge an active member's accuracy; the fields it sets without a move are saved by the caller."""
    standing = program_standing(record)
    rules = program_rules()
    if standing.level == "below":
        membership.below_thresholds_since = membership.below_thresholds_since or now
    else:
        membership.below_thresholds_since = None
    if standing.level == "ok":
        if membership.status != M.WARNED:
            return []
        MEMBERSHIPS.move(membership, "recover", M.ACTIVE, automated=True, accuracy_note="")
        mail_membership(
            membership,
            subject="your accuracy is back within the program's thresholds",
            paragraphs=[f"The accuracy warning on the MarketSafe membership of {membership.brand} is lifted."],
        )
        return ["recovered"]
    membership.accuracy_note = standing.note
    if membership.status == M.ACTIVE:
        MEMBERSHIPS.move(
            membership,
            "warn",
            M.WARNED,
            automated=True,
            reason=standing.note,
            warned_at=now,
            accuracy_note=standing.note,
        )
        period = rules["PROGRAM_WARNING_PERIOD"].days
        mail_membership(
            membership,
            subject="accuracy warning",
            paragraphs=[
                f"The accuracy of {membership.brand}'s notices over the last"
                f" {rules['PROGRAM_ACCURACY_WINDOW'].days} days is close to or below the MarketSafe program's"
                " thresholds:",
                standing.note,
                f"A membership below a threshold for {period} days is suspended. Check your reports before"
                " you file them; your dashboard shows the figures per reason.",
            ],
        )
        mail_association(
            membership,
            subject=f"{membership.brand} flagged by the nightly check",
            paragraphs=[
                f"The nightly check warned {membership.brand}: its figures are close to or below the MarketSafe"
                " program's thresholds (monitored rates or audited accuracy):",
                standing.note,
                f"The membership is suspended by itself after {period} days below a threshold.",
            ],
        )
        return ["warned"]
    since = membership.below_thresholds_since
    if standing.level == "below" and since is not None and since <= now - rules["PROGRAM_WARNING_PERIOD"]:
        reason = f"accuracy below the program's thresholds since {since:%d %B %Y}: {standing.note}"
        suspend(membership=membership, actor=None, reason=reason, now=now)
        mail_association(
            membership,
            subject=f"{membership.brand} suspended by the nightly check",
            paragraphs=[f"The nightly check suspended the MarketSafe membership of {membership.brand}: {reason}"],
        )
        return ["suspended"]
    return []
