"""Writing audit events. Call these inside the transaction that makes the change they describe."""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from core.audit.models import AuditEvent


def audit_record(
    *,
    action: str,
    target: models.Model,
    actor: Any = None,
    automated: bool = False,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    brand_id: int | None = None,
    data: dict | None = None,
) -> AuditEvent:
    """Record one change of `target`. `actor` is the user who made it (None for the system)."""
    return AuditEvent.objects.create(
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=True),
        target_id=target.pk,
        actor=actor if actor is not None and actor.is_authenticated else None,
        automated=automated,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        brand_id=brand_id,
        data=data or {},
    )


def audit_record_state_changes(
    *,
    action: str,
    model: type[models.Model],
    changes: Iterable[tuple[int, str, str]],
    actor_id: int | None = None,
    automated: bool = False,
    reason: str = "",
    brand_id: int | None = None,
    data: dict | None = None,
) -> int:
    """Record one event per (target id, old state, new state) in a single INSERT; returns the row count.

    Used by batch work (delisting chunks, deadline sweeps) where one ORM object per row would dominate.
    """
    rows: Sequence[tuple[int, str, str]] = list(changes)
    if not rows:
        return 0
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    ids, old, new = zip(*rows, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditevent
                (occurred_at, actor_id, automated, action, target_type_id, target_id, brand_id,
                 from_state, to_state, reason, data)
            SELECT now(), %s, %s, %s, %s, t.id, %s, t.old, t.new, %s, %s
            FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS t(id, old, new)
            """,
            [
                actor_id,
                automated,
                action,
                content_type.pk,
                brand_id,
                reason,
                json.dumps(data or {}),
                list(ids),
                list(old),
                list(new),
            ],
        )
        return cursor.rowcount
