"""Actions on a whole seller network (issue 19): suspend every account, or delist every live listing.

A `NetworkAction` freezes the network's sellers when a moderator asks for it, so what is acted on is what
the moderator saw, whatever the marketplace sends afterwards. Small networks are acted on at once; a network
of NETWORK_SECOND_APPROVER_MIN_SELLERS sellers or more (or NETWORK_SECOND_APPROVER_MIN_LISTINGS live
listings, or one cut short by the search's caps) waits for a second moderation lead, not the one who asked
(`investigations.services.networks`). Either way one delisting job removes every live listing of the network.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now


class NetworkActionKind(models.TextChoices):
    SUSPEND = "suspend", "Suspend every account and delist every live listing"
    DELIST = "delist", "Delist every live listing"


class NetworkActionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a second approver"
    EXECUTED = "executed", "Executed"
    DECLINED = "declined", "Declined"


class NetworkAction(models.Model):
    idempotency_key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=NetworkActionKind)
    root_seller = models.ForeignKey("listings.Seller", on_delete=models.PROTECT, related_name="+")
    #: The network's sellers when the action was asked for (the root seller included).
    seller_ids = ArrayField(models.BigIntegerField())
    live_listings = models.PositiveIntegerField(help_text="Live listings of the network when the action was asked for.")
    truncated = models.BooleanField(default=False, help_text="The network search stopped at a cap.")
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=NetworkActionStatus, default=NetworkActionStatus.PENDING)
    needs_second_approval = models.BooleanField(default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(db_default=Now(), editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    delist_job = models.ForeignKey(
        "listings.DelistJob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("approve_networkaction", "Approve an action on a large seller network as the second lead")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=NetworkActionStatus.values), name="networkaction_status_valid"
            ),
            models.UniqueConstraint(
                fields=["root_seller", "kind"],
                condition=models.Q(status="pending"),
                name="networkaction_one_pending_per_seller",
            ),
        ]
        indexes = [models.Index(fields=["status", "-requested_at"], name="networkaction_status_idx")]

    def __str__(self) -> str:
        return f"Network action #{self.pk}: {self.get_kind_display().lower()} ({len(self.seller_ids)} sellers)"
