"""API tokens: how scripts and integrations of a brand authenticate to the REST API.

A token is bound to one membership (a user's role in one brand): every request made with it acts in that
brand with that role, and it stops working the moment the membership is deactivated, the token is revoked
or it expires. Only the SHA-256 of the secret is stored (the secret is a 256-bit random string, so a
plain hash is as good as a slow one and costs nothing per request); the secret is shown once, when the
token is created. The short public prefix finds the row without a scan.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from core.tenancy import BrandScopedQuerySet


class ApiTokenQuerySet(BrandScopedQuerySet):
    brand_path = "membership__brand"

    def usable(self) -> "ApiTokenQuerySet":
        """Not revoked, not expired, and its membership still active."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, membership__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        INACTIVE = "inactive", "Member removed"

    membership = models.ForeignKey("brands.BrandMembership", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the script that uses it.")
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="Public part, for lookup.")
    secret_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the whole token.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True) | models.Q(revoked_by__isnull=False),
                name="apitoken_revoked_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        if not self.membership.is_active:
            return self.Status.INACTIVE
        return self.Status.ACTIVE

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label
