"""Choices of the brand side: roles, IP rights and the MarketSafe program."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    REPORTER = "reporter", "Reporter"
    VIEWER = "viewer", "Viewer"


class Capability(models.TextChoices):
    """What a view or service needs; each role has a fixed set (see ROLE_CAPABILITIES)."""

    VIEW = "view", "Read the brand's data"
    FILE = "file", "File and answer notices"
    MANAGE = "manage", "Manage team, rights and program membership"


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({Capability.VIEW, Capability.FILE, Capability.MANAGE}),
    Role.REPORTER: frozenset({Capability.VIEW, Capability.FILE}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


class IPRightKind(models.TextChoices):
    TRADEMARK = "trademark", "Trademark"
    COPYRIGHT = "copyright", "Copyright"
    DESIGN = "design", "Design"
    PATENT = "patent", "Patent"


class IPRightStatus(models.TextChoices):
    PENDING = "pending", "Pending verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class DocumentKind(models.TextChoices):
    CERTIFICATE = "certificate", "Registration certificate"
    AUTHORISATION = "authorisation", "Authorisation letter"
    RENEWAL = "renewal", "Renewal or assignment"
    OTHER = "other", "Other"


class Lane(models.TextChoices):
    """Review lane of a notice: members of the MarketSafe program get the expedited one."""

    STANDARD = "standard", "Standard"
    EXPEDITED = "expedited", "Expedited (MarketSafe)"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    INFO_REQUESTED = "info_requested", "Information requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


APPLICATION_OPEN_STATUSES = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.INFO_REQUESTED,
)


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    WARNED = "warned", "Active, accuracy warning"
    SUSPENDED = "suspended", "Suspended"
    LAPSED = "lapsed", "Lapsed"
    ENDED = "ended", "Ended"


#: Statuses in which the brand enjoys the expedited lane.
MEMBERSHIP_ACTIVE_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.WARNED)
#: Statuses of a membership that still exists (at most one per brand).
MEMBERSHIP_CURRENT_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.WARNED, MembershipStatus.SUSPENDED)
