"""`manage.py ops_status`: queue depths, the oldest pending delisting chunk, stalled delisting jobs, the
webhook backlog and pending filing work, for an operator's terminal or a monitoring check.

Exit status: 0 when every figure is within its threshold, 2 when one is above it, 1 when PostgreSQL or
the broker cannot be read. `--json` prints one JSON object instead of text; the figures are the same
(marketsafe/operations.py says what each one means).
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketsafe import operations

OPTIONS = {
    "max_queue_depth": "messages in any one queue",
    "max_chunk_age": "seconds the oldest pending delisting chunk may wait",
    "stalled_after": "seconds without progress after which a delisting job counts as stalled",
    "max_stalled_jobs": "stalled delisting jobs",
    "max_webhooks_due": "webhook deliveries due",
    "max_webhooks_failed": "webhook deliveries given up in the last 24 h",
    "max_filing_pending": "filing drafts and bulk decisions waiting or running",
}


class Command(BaseCommand):
    help = "Print queue depths and background-job health; exit 2 above a threshold, 1 if unreadable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        for name, what in OPTIONS.items():
            parser.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"threshold: {what}")

    def handle(self, *args: Any, **options: Any) -> None:
        limits = operations.thresholds(**{name: options[name] for name in OPTIONS})
        status = operations.ops_status(limits=limits)
        if options["json"]:
            self.stdout.write(json.dumps(status.as_dict(), indent=2, default=str))
        else:
            self._print(status)
        if status.unavailable:
            raise CommandError(f"could not read: {', '.join(status.unavailable)}", returncode=1)
        if status.breaches:
            raise CommandError("; ".join(status.breaches), returncode=2)

    def _print(self, status: operations.Status) -> None:
        write = self.stdout.write
        if "broker" in status.unavailable:
            write("queues: broker unavailable")
        for queue, depth in status.queues.items():
            write(f"queue {queue}: {depth} waiting")
        if "database" in status.unavailable:
            write("database unavailable")
            return
        age = status.oldest_pending_chunk_age
        write("oldest pending delisting chunk: " + ("none" if age is None else f"{age:.0f} s"))
        write(f"stalled delisting jobs: {len(status.stalled_jobs)}")
        for job in status.stalled_jobs:
            write(f"  job #{job['job']} ({job['status']}): no progress for {job['seconds_without_progress']} s")
        write(f"webhook deliveries due: {status.webhooks_due}")
        write(f"webhook deliveries given up in the last 24 h: {status.webhooks_failed}")
        write(f"filing drafts pending: {status.filing_drafts_pending}")
        write(f"bulk decisions pending: {status.bulk_decisions_pending}")
