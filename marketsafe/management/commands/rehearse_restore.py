"""`manage.py rehearse_restore`: dump the database, restore it into a new one, check it and drop it
(marketsafe/restore.py; docs/deployment.md, "Backups and restores"). Exits non-zero when anything differs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketsafe.restore import RestoreFailed, rehearse_restore


class Command(BaseCommand):
    help = "Rehearse a restore: pg_dump, pg_restore into a fresh database, migrate --check, compare, drop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep-dump", type=Path, help="Write the custom-format dump here and keep it.")

    def handle(self, *args, keep_dump: Path | None = None, **options) -> None:
        try:
            rehearsal = rehearse_restore(keep_dump=keep_dump)
        except RestoreFailed as exc:
            raise CommandError(f"Restore rehearsal failed: {exc}") from exc
        out = self.stdout
        out.write(
            f"Dumped {rehearsal.source} ({rehearsal.dump_bytes / 1_048_576:.1f} MiB) and restored it as "
            f"{rehearsal.restored} (dropped again)."
        )
        for table, (source, restored) in rehearsal.counts.items():
            out.write(f"  {table:32} {source:>12,} rows, restored {restored:,}")
        out.write(f"  {'triggers':32} {rehearsal.triggers[0]:>12,}, restored {rehearsal.triggers[1]:,}")
        steps = ", ".join(f"{step} {seconds:.2f} s" for step, seconds in rehearsal.seconds.items())
        out.write(f"Times: {steps}; total {sum(rehearsal.seconds.values()):.2f} s.")
        out.write(self.style.SUCCESS("Restore rehearsal passed: migrations applied, row counts and triggers equal."))
