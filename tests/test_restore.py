"""The restore rehearsal (`manage.py rehearse_restore`, marketsafe/restore.py) against the real server:
a custom-format dump of the test database restores into a fresh database that passes `migrate --check`,
with the same rows and triggers, and the fresh database is gone afterwards."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from cases.models import CaseItem
from core.audit.models import AuditEvent
from marketsafe import restore


def _databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {name for (name,) in cursor.fetchall()}


# Committed rows (transaction=True): pg_dump runs in a session of its own and sees only committed data.
@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_with_every_row_and_trigger_and_the_copy_is_dropped(file_case, moderator, tmp_path):
    from cases import services as case_services

    item = file_case(3).items.order_by("pk").first()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    databases_before = _databases()

    out = io.StringIO()
    call_command("rehearse_restore", keep_dump=tmp_path / "kept.dump", stdout=out)

    report = out.getvalue()
    assert "Restore rehearsal passed" in report
    assert f"{CaseItem._meta.db_table}" in report
    assert (tmp_path / "kept.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert _databases() == databases_before


@pytest.mark.django_db(transaction=True)
def test_the_rehearsal_counts_what_the_snapshot_holds(file_case):
    file_case(2)
    rehearsal = restore.rehearse_restore()
    assert rehearsal.counts[CaseItem._meta.db_table] == (2, 2)
    audit = rehearsal.counts[AuditEvent._meta.db_table]
    assert audit[0] == audit[1] == AuditEvent.objects.count() > 0
    assert rehearsal.triggers[0] == rehearsal.triggers[1] > 0  # the audit trail's append-only trigger among them
    assert set(rehearsal.seconds) == {"dump", "restore", "migrate_check"}


def test_binaries_of_another_major_version_are_refused():
    with pytest.raises(restore.RestoreFailed, match="PostgreSQL 9"):
        restore.client_binaries(9)
