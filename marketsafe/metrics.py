"""The portal's own Prometheus figures, computed from PostgreSQL when Prometheus scrapes `/metrics`.

Computed, not counted: the work happens in web processes and Celery workers on several hosts, and only the
database sees all of it, so a scrape asks the database instead of summing per-process counters that
workers could not expose. Each figure is one cheap query, bounded whatever the tables hold
(docs/deployment.md, "Metrics", has the EXPLAIN of each):

- "recent" figures cover the last `METRICS_WINDOW_SECONDS`. Rows arrive in id order, so a first query
  walks each table's primary key backwards (`ORDER BY id DESC LIMIT n`) to the newest row older than
  the window, reading at most `METRICS_SCAN_ROWS` rows, and the figures then read only the ids above it
  (an index range scan over the window's rows, with the ids as literal parameters so the planner sees
  how few they are). With more rows than that in the window they undercount, which
  `marketsafe_metrics_window_saturated` says;
- "now" figures read a partial index whose rows are exactly what they count (the review queue, open
  delisting chunks, due webhook deliveries), capped at `METRICS_SCAN_ROWS` as well.

Decisions are read from the outbox (`WebhookEvent`: one row per item status change, written in the
decision's transaction): a moderator's decision is a move from the review queue (submitted, in review)
to accepted, rejected or clarification requested, as on the SLA page (cases/sla.py).

This module is wiring (it names cases, listings and integrations); core/metrics.py loads it through the
`METRICS_COLLECTORS` setting.
"""

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cases.choices import ItemStatus
from cases.models import CaseItem
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from listings.choices import DelistChunkState
from listings.models import DelistChunk

logger = logging.getLogger(__name__)

QUEUED = (ItemStatus.SUBMITTED.value, ItemStatus.IN_REVIEW.value)
DECISIONS = (ItemStatus.ACCEPTED.value, ItemStatus.REJECTED.value, ItemStatus.CLARIFICATION_REQUESTED.value)
#: Delisting chunks read for the recent rate: 2,000 chunks hold millions of listings.
RECENT_CHUNKS = 2000

#: The tables' names, the only thing put into the SQL below other than query parameters.
TABLES = {
    "items": CaseItem._meta.db_table,
    "events": WebhookEvent._meta.db_table,
    "chunks": DelistChunk._meta.db_table,
    "attempts": WebhookAttempt._meta.db_table,
    "deliveries": WebhookDelivery._meta.db_table,
}


#: The id of the newest row older than the window among the newest `scan` rows (NULL when there is none):
#: a backward walk of the primary key that stops at the first such row.
_WINDOW_START = """(SELECT id FROM (SELECT id, {column} FROM {table} ORDER BY id DESC LIMIT %(scan)s) r
                   WHERE {column} < %(since)s LIMIT 1)"""
#: When none was found: all the newest `scan` rows count, and the figure is saturated if there were `scan`.
_WINDOW_FALLBACK = """SELECT coalesce(min(id) - 1, 0), count(*) >= %(scan)s
                      FROM (SELECT id FROM {table} ORDER BY id DESC LIMIT %(scan)s) r"""
#: The id-ordered tables of the recent figures and their time columns (parameters items_from, ...).
BOUNDED = {"items": "submitted_at", "events": "occurred_at", "attempts": "attempted_at"}


def _sql(template: str, **names: str) -> str:
    """A template with table and column names put in (never values: those are query parameters)."""
    return template.format(**names)


BOUNDS = "SELECT " + ", ".join(
    _sql(_WINDOW_START, table=TABLES[table], column=column) for table, column in BOUNDED.items()
)


#: One query per figure, by name. Parameters: those of query_parameters and the *_from ids of BOUNDS.
_TEMPLATES: dict[str, str] = {
    # Items filed in the window, by lane.
    "filed": """
        SELECT lane, count(*) FROM {items}
        WHERE id > %(items_from)s AND submitted_at >= %(since)s GROUP BY lane""",
    # Moderators' decisions in the window, by outcome and lane, and how many came after the SLA was due.
    "decisions": """
        SELECT item.lane, event.to_status, count(*), count(*) FILTER (WHERE item.decided_at > item.sla_due_at)
        FROM {events} event JOIN {items} item ON item.id = event.item_id
        WHERE event.id > %(events_from)s AND event.occurred_at >= %(since)s
          AND event.to_status = ANY(%(decisions)s) AND event.from_status = ANY(%(queued)s)
        GROUP BY 1, 2""",
    # The review queue now, by lane: waiting, and waiting past the SLA (the review-queue partial index).
    "queue": """
        SELECT lane, count(*), count(*) FILTER (WHERE sla_due_at < %(now)s) FROM (
            SELECT lane, sla_due_at FROM {items} WHERE status = ANY(%(queued)s) LIMIT %(scan)s
        ) queued GROUP BY lane""",
    # Listings handled by delisting chunks that finished in the window (chunks finish out of id order:
    # the newest RECENT_CHUNKS are read).
    "delisting": """
        SELECT coalesce(sum(removed), 0), coalesce(sum(removed + skipped + failed), 0) FROM (
            SELECT removed, skipped, failed, finished_at FROM {chunks} ORDER BY id DESC LIMIT %(chunks)s
        ) recent WHERE finished_at >= %(since)s""",
    # Delisting chunks waiting for or held by a worker (the open-chunks partial index).
    "chunks": """
        SELECT state, count(*) FROM (
            SELECT state FROM {chunks} WHERE state IN ('pending', 'running') LIMIT %(scan)s
        ) open GROUP BY state""",
    # Webhook delivery attempts in the window, and how many failed (no 2xx answer).
    "attempts": """
        SELECT count(*), count(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299)
        FROM {attempts} WHERE id > %(attempts_from)s AND attempted_at >= %(since)s""",
    # Webhook deliveries due now and not yet made (the due-deliveries partial index).
    "webhook_backlog": """
        SELECT count(*) FROM (
            SELECT 1 FROM {deliveries} WHERE state = 'pending' AND next_attempt_at <= %(now)s LIMIT %(scan)s
        ) due""",
}
QUERIES = {name: template.format(**TABLES) for name, template in _TEMPLATES.items()}


def query_parameters() -> dict:
    now = timezone.now()
    return {
        "now": now,
        "since": now - timedelta(seconds=settings.METRICS_WINDOW_SECONDS),
        "scan": settings.METRICS_SCAN_ROWS,
        "chunks": RECENT_CHUNKS,
        "queued": list(QUEUED),
        "decisions": list(DECISIONS),
    }


def bounded_parameters(cursor) -> tuple[dict, dict[str, bool]]:
    """query_parameters with where each window starts, and which scans stopped short of it."""
    parameters = query_parameters()
    cursor.execute(BOUNDS, parameters)
    saturated = {}
    for table, start in zip(BOUNDED, cursor.fetchone(), strict=True):
        saturated[table] = False
        if start is None:
            cursor.execute(_sql(_WINDOW_FALLBACK, table=TABLES[table]), parameters)
            start, saturated[table] = cursor.fetchone()
        parameters[f"{table}_from"] = start
    return parameters, saturated


def run_queries() -> dict[str, list[tuple]]:
    """Every figure's rows, read in one transaction (one snapshot: the figures agree with each other)."""
    with transaction.atomic(), connection.cursor() as cursor:
        parameters, saturated = bounded_parameters(cursor)
        results: dict[str, list[tuple]] = {"saturated": [tuple(saturated.values())]}
        for name, sql in QUERIES.items():
            cursor.execute(sql, parameters)
            results[name] = cursor.fetchall()
    return results


def _gauge(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"marketsafe_{name}", documentation, labels=labels)


class BusinessCollector(Collector):
    """Items filed, decisions by outcome and lane, SLA breaches, delisting rate and backlog, webhook
    failures and backlog: gauges over the recent window or of the present state."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        up = _gauge("database_up", "1 when PostgreSQL answered this scrape's queries.")
        try:
            rows = run_queries()
        except DatabaseError:  # the scrape still answers, with the request metrics and the queue depths
            logger.warning("Metrics: the database queries failed", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        window = settings.METRICS_WINDOW_SECONDS
        lanes = [lane for lane, _label in CaseItem._meta.get_field("lane").choices]

        filed = _gauge("items_filed_recent", "Reported listings filed in the last METRICS_WINDOW_SECONDS.", ["lane"])
        counts = dict(rows["filed"])
        for lane in lanes:
            filed.add_metric([lane], counts.get(lane, 0))
        yield filed

        decisions = _gauge(
            "decisions_recent", "Moderators' decisions in the last METRICS_WINDOW_SECONDS.", ["lane", "outcome"]
        )
        late = _gauge(
            "decisions_after_sla_recent",
            "Decisions in the last METRICS_WINDOW_SECONDS made after the item's SLA was due.",
            ["lane"],
        )
        made = {(lane, outcome): (count, breached) for lane, outcome, count, breached in rows["decisions"]}
        for lane in lanes:
            for outcome in DECISIONS:
                decisions.add_metric([lane, outcome], made.get((lane, outcome), (0, 0))[0])
            late.add_metric([lane], sum(made.get((lane, outcome), (0, 0))[1] for outcome in DECISIONS))
        yield decisions
        yield late

        queued = _gauge("review_queue_items", "Reported listings waiting for a moderator's decision.", ["lane"])
        breached = _gauge(
            "sla_breached_items", "Reported listings waiting for a decision past their SLA due time.", ["lane"]
        )
        queue = {lane: (waiting, past_due) for lane, waiting, past_due in rows["queue"]}
        for lane in lanes:
            queued.add_metric([lane], queue.get(lane, (0, 0))[0])
            breached.add_metric([lane], queue.get(lane, (0, 0))[1])
        yield queued
        yield breached

        removed, processed = rows["delisting"][0]
        rate = _gauge(
            "delisting_rows_per_second", "Listings per second that delisting chunks handled, over the window.", ["kind"]
        )
        rate.add_metric(["removed"], removed / window)
        rate.add_metric(["processed"], processed / window)
        yield rate

        chunks = _gauge("delisting_chunks_open", "Delisting chunks waiting for a worker or being worked.", ["state"])
        open_chunks = dict(rows["chunks"])
        for state in (DelistChunkState.PENDING, DelistChunkState.RUNNING):
            chunks.add_metric([state.value], open_chunks.get(state.value, 0))
        yield chunks

        attempts, failed = rows["attempts"][0]
        webhook = _gauge(
            "webhook_attempts_recent", "Webhook delivery attempts in the last METRICS_WINDOW_SECONDS.", ["result"]
        )
        webhook.add_metric(["failed"], failed)
        webhook.add_metric(["succeeded"], attempts - failed)
        yield webhook
        backlog = _gauge("webhook_deliveries_due", "Webhook deliveries due now and not yet attempted.")
        backlog.add_metric([], rows["webhook_backlog"][0][0])
        yield backlog

        saturated = _gauge(
            "metrics_window_saturated",
            "1 when a recent figure read METRICS_SCAN_ROWS rows without reaching the window's start (it undercounts).",
            ["table"],
        )
        for table, flag in zip(BOUNDED, rows["saturated"][0], strict=True):
            saturated.add_metric([table], 1 if flag else 0)
        yield saturated

        took = _gauge("metrics_business_seconds", "Time the database queries of this scrape took.")
        took.add_metric([], time.perf_counter() - started)
        yield took
