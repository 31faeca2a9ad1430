"""The append-only audit trail: every state change of every item, listing, seller, membership and right.

Rows are never updated or deleted: a PostgreSQL trigger (django-pgtrigger `Protect`) refuses UPDATE and
DELETE, so not even a bug or a raw SQL statement in application code can rewrite history.
"""

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models.functions import Now


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    automated = models.BooleanField(default=False, help_text="Done by a scheduled task or a rule, not a person.")
    action = models.CharField(max_length=64, help_text="What happened, e.g. item.accept or listing.remove.")
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.BigIntegerField()
    # The brand the target belongs to, when it belongs to one: lets a brand's timeline be read without joins.
    brand_id = models.BigIntegerField(null=True, blank=True)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "audit_auditevent"  # named in raw INSERTs: audit_record_state_changes, delisting chunks
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "occurred_at"], name="audit_target_idx"),
            models.Index(
                fields=["brand_id", "occurred_at"], condition=models.Q(brand_id__isnull=False), name="audit_brand_idx"
            ),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_idx"),
            # Append-only rows arrive in time order: a tiny BRIN index serves date ranges over millions.
            BrinIndex(fields=["occurred_at"], name="audit_occurred_brin"),
        ]
        triggers = [
            pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        change = f" {self.from_state} → {self.to_state}" if self.from_state or self.to_state else ""
        return f"{self.action}{change} on {self.target_type.model} #{self.target_id}"
