"""Brands (the tenants), their members, their IP rights and their place in the MarketSafe program."""

from typing import Self

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower, Now
from django.utils import timezone

from brands import choices
from brands.querysets import (
    BrandChildQuerySet,
    BrandMembershipQuerySet,
    BrandQuerySet,
    IPRightDocumentQuerySet,
    IPRightQuerySet,
    ProgramApplicationChildQuerySet,
    ProgramMembershipQuerySet,
)
from core.files import StoredDocument


class Brand(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    legal_name = models.CharField(max_length=250, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = BrandQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BrandMembership(models.Model):
    """A user's role in a brand. Agents (law firms) hold memberships in several brands."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_memberships")
    role = models.CharField(max_length=16, choices=choices.Role)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = BrandMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["brand", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="membership_unique_user_brand"),
            models.CheckConstraint(condition=models.Q(role__in=choices.Role.values), name="membership_role_valid"),
        ]
        indexes = [models.Index(fields=["brand", "role"], name="membership_brand_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} of {self.brand}"

    def can(self, capability: str) -> bool:
        return self.is_active and capability in choices.ROLE_CAPABILITIES[self.role]


class InvitationQuerySet(BrandChildQuerySet):
    def open(self) -> Self:
        """Neither accepted nor revoked (possibly expired): at most one per brand and e-mail address."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def pending(self) -> Self:
        """Open and not yet expired: the link still works."""
        return self.open().filter(expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An owner's invitation to join a brand with a role, sent as a single-use link that expires.

    Only the SHA-256 of the link's token is stored: someone who reads the database (a backup, the admin)
    cannot accept an invitation; the raw token exists only in the e-mail sent to the invitee.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-mail address")
    role = models.CharField(max_length=16, choices=choices.Role)
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the token.")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "brand",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_brand_email",
                violation_error_message="This address already has a pending invitation to this brand.",
            ),
            models.CheckConstraint(condition=models.Q(role__in=choices.Role.values), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(accepted_by__isnull=False),
                name="invitation_accepted_has_user",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_not_accepted_and_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.brand} as {self.get_role_display()}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING


class IPRight(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="ip_rights")
    kind = models.CharField(max_length=16, choices=choices.IPRightKind)
    name = models.CharField(max_length=200, help_text="The mark, work, design or invention as registered.")
    registration_number = models.CharField(max_length=80)
    office = models.CharField(max_length=40, help_text="Registering office or jurisdiction, e.g. EUIPO, USPTO, WIPO.")
    classes = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True, help_text="Nice classes.")
    owner_name = models.CharField(max_length=250)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=choices.IPRightStatus, default=choices.IPRightStatus.PENDING)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(
        blank=True, help_text="Why marketplace staff refused to verify the right, as the brand reads it."
    )
    retired_at = models.DateTimeField(null=True, blank=True, help_text="The brand no longer relies on this right.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = IPRightQuerySet.as_manager()

    class Meta:
        verbose_name = "IP right"
        ordering = ["brand", "name"]
        permissions = [("verify_ipright", "Can verify or refuse IP rights")]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "office", "registration_number"], name="ipright_unique_registration"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="ipright_validity_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=choices.IPRightStatus.VERIFIED) | models.Q(verified_at__isnull=False),
                name="ipright_verified_has_time",
            ),
        ]
        indexes = [models.Index(fields=["brand", "status"], name="ipright_brand_status_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.office} {self.registration_number})"


class IPRightDocument(StoredDocument):
    right = models.ForeignKey(IPRight, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=16, choices=choices.DocumentKind, default=choices.DocumentKind.CERTIFICATE)

    objects = IPRightDocumentQuerySet.as_manager()

    class Meta(StoredDocument.Meta):
        verbose_name = "IP right document"


class ProgramApplication(models.Model):
    """A brand's application to the MarketSafe program, reviewed by association staff."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="program_applications")
    status = models.CharField(max_length=16, choices=choices.ApplicationStatus, default=choices.ApplicationStatus.DRAFT)
    company_name = models.CharField(max_length=250)
    association_member_number = models.CharField(max_length=60, blank=True)
    contact_name = models.CharField(max_length=150)
    contact_email = models.EmailField()
    enforcement_statement = models.TextField(help_text="How the brand finds and verifies infringements.")
    rights = models.ManyToManyField(IPRight, blank=True, related_name="program_applications")
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    objects = BrandChildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand"],
                condition=models.Q(status__in=choices.APPLICATION_OPEN_STATUSES),
                name="application_one_open_per_brand",
            ),
            models.CheckConstraint(
                condition=models.Q(status=choices.ApplicationStatus.DRAFT) | models.Q(submitted_at__isnull=False),
                name="application_submitted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="application_queue_idx")]

    def __str__(self) -> str:
        return f"Application of {self.brand} ({self.get_status_display()})"


class ApplicationDocument(StoredDocument):
    application = models.ForeignKey(ProgramApplication, on_delete=models.CASCADE, related_name="documents")

    objects = ProgramApplicationChildQuerySet.as_manager()


class InformationRequest(models.Model):
    """A reviewer's question on an application and the brand's answer."""

    application = models.ForeignKey(ProgramApplication, on_delete=models.CASCADE, related_name="information_requests")
    message = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(db_default=Now())
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = ProgramApplicationChildQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"Information request on {self.application}"


class ProgramMembership(models.Model):
    """An approved brand's membership; while active, its new notices take the expedited lane."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="program_memberships")
    application = models.OneToOneField(ProgramApplication, on_delete=models.PROTECT, related_name="membership")
    status = models.CharField(max_length=16, choices=choices.MembershipStatus, default=choices.MembershipStatus.ACTIVE)
    started_at = models.DateTimeField()
    renews_on = models.DateField()
    warned_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Written by the nightly check (`brands.services.monitoring.memberships_monitor`).
    checked_on = models.DateField(null=True, blank=True, help_text="The last night the accuracy was checked.")
    below_thresholds_since = models.DateTimeField(
        null=True, blank=True, help_text="Since when the accuracy has been below a threshold without a break."
    )
    accuracy_note = models.TextField(blank=True, help_text="The figures behind the last warning or suspension.")
    renewal_reminder_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The last renewal reminder sent, in days before the renewal date."
    )

    objects = ProgramMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        permissions = [("view_program_report", "Can view the MarketSafe program report")]
        constraints = [
            models.UniqueConstraint(
                fields=["brand"],
                condition=models.Q(status__in=choices.MEMBERSHIP_CURRENT_STATUSES),
                name="membership_one_current_per_brand",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=choices.MembershipStatus.SUSPENDED) | models.Q(suspended_at__isnull=False),
                name="programmembership_suspended_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "renews_on"], name="programmembership_renewal_idx")]

    def __str__(self) -> str:
        return f"MarketSafe membership of {self.brand} ({self.get_status_display()})"
