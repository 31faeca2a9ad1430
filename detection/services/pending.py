"""The outbox of matching (`PendingMatch`): a listing the platform upsert wrote stays pending until a
worker has matched it, so that a matching message lost while the broker was down is sent again by the
sweep instead of the listing never being matched. Matching twice changes nothing (one candidate per bank
entry and listing, `ON CONFLICT DO NOTHING`), so a message sent twice costs only the work."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from detection.models import PendingMatch

#: A listing pending this long had its message lost, or its worker is far behind: the sweep sends it again.
RESEND_AFTER = timedelta(minutes=5)
#: ... and again after this long while it is still pending (a worker backlog, not a lost message).
RESEND_EVERY = timedelta(minutes=15)
#: Listings the sweep sends in one run (the next run, a minute later, takes the rest).
SWEEP_LIMIT = 20_000

_RECORD_SQL = """
INSERT INTO detection_pendingmatch (listing_id, queued_at, swept_at)
SELECT id, now(), NULL FROM unnest(%s::bigint[]) AS t(id)
ON CONFLICT (listing_id) DO UPDATE SET queued_at = excluded.queued_at, swept_at = NULL
"""


def pending_record(*, listing_ids: Sequence[int]) -> None:
    """Mark the listings as waiting for matching, in the caller's transaction (one statement)."""
    if listing_ids:
        with connection.cursor() as cursor:
            cursor.execute(_RECORD_SQL, [list(listing_ids)])


def pending_done(*, listing_ids: Sequence[int], queued_before: datetime) -> int:
    """The listings are matched: forget them, unless written again since `queued_before` (the matching
    read them before that write; the write's own message matches them again)."""
    deleted, _ = PendingMatch.objects.filter(listing_id__in=listing_ids, queued_at__lte=queued_before).delete()
    return deleted


@transaction.atomic
def pending_sweep(*, now: datetime | None = None) -> list[int]:
    """The listings whose matching is overdue, marked as sent again now; the caller sends them on commit.
    Rows another sweep holds are skipped, so overlapping runs send each listing once."""
    now = now or timezone.now()
    overdue = list(
        PendingMatch.objects.select_for_update(skip_locked=True)
        .filter(queued_at__lte=now - RESEND_AFTER)
        .exclude(swept_at__gt=now - RESEND_EVERY)
        .order_by("queued_at")
        .values_list("listing_id", flat=True)[:SWEEP_LIMIT]
    )
    PendingMatch.objects.filter(listing_id__in=overdue).update(swept_at=now)
    return overdue
