"""Reading the audit trail."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.audit.models import AuditEvent


def audit_timeline(target: models.Model) -> models.QuerySet[AuditEvent]:
    """Events of one object, oldest first, with their actors (one query)."""
    return (
        AuditEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=True), target_id=target.pk
        )
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
