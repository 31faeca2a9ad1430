"""The MarketSafe program's moves and its memberships: the state machines of applications and memberships,
a reviewer suspending and reinstating a membership, and the e-mails the brand receives about its place in
the program.

An owner applies (draft → submitted); an association reviewer starts the review, asks for information
(→ info requested; the brand answers and resubmits), approves (a membership with a renewal date) or
rejects with a reason (`applications`). Memberships are watched every night (`monitoring`): warned near a
threshold, suspended after the warning period below one, reminded before the renewal date and lapsed
after it. A reviewer may suspend and reinstate (here).

Every move goes through `APPLICATIONS` or `MEMBERSHIPS` (`core.transitions.StateMachine`): under the row
lock, a move the status does not allow is refused with `core.errors.TransitionNotAllowed` naming both
statuses; the move is saved and audited (`application.<action>`, `membership.<action>`) in the caller's
transaction, and the brand is e-mailed once that transaction commits.
"""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from brands.choices import MEMBERSHIP_CURRENT_STATUSES, ApplicationStatus, MembershipStatus, Role
from brands.models import Brand, BrandMembership, ProgramApplication, ProgramMembership
from brands.services.common import required
from core import mail
from core.accounts.models import User
from core.errors import Conflict
from core.transitions import StateMachine

A = ApplicationStatus
M = MembershipStatus

#: action → application statuses it may start from ("edit" only checks: the owner changes the details).
APPLICATION_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "edit": (A.DRAFT, A.INFO_REQUESTED),
    "submit": (A.DRAFT, A.INFO_REQUESTED),
    "start_review": (A.SUBMITTED,),
    "request_info": (A.SUBMITTED, A.UNDER_REVIEW),
    "approve": (A.SUBMITTED, A.UNDER_REVIEW),
    "reject": (A.SUBMITTED, A.UNDER_REVIEW),
}
#: action → membership statuses it may start from (a reviewer's: suspend, reinstate; the rest are the
#: nightly check's and the approval of a renewal's).
MEMBERSHIP_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "suspend": (M.ACTIVE, M.WARNED),
    "reinstate": (M.SUSPENDED,),
    "warn": (M.ACTIVE,),
    "recover": (M.WARNED,),
    "lapse": MEMBERSHIP_CURRENT_STATUSES,
    "end": MEMBERSHIP_CURRENT_STATUSES,
}

APPLICATIONS = StateMachine(
    model=ProgramApplication,
    choices=ApplicationStatus,
    allowed_from=APPLICATION_ALLOWED_FROM,
    audit_prefix="application",
    refusal="This application cannot be {verb}: it is {status}, and only an application that is {allowed} can.",
    related=("brand",),
)
MEMBERSHIPS = StateMachine(
    model=ProgramMembership,
    choices=MembershipStatus,
    allowed_from=MEMBERSHIP_ALLOWED_FROM,
    audit_prefix="membership",
    refusal="This membership cannot be {verb}: it is {status}, and only a membership that is {allowed} can.",
    related=("brand", "application"),
)


def program_rules() -> dict:
    return settings.MARKETSAFE


# --- what the brand hears ---------------------------------------------------------------------------


def program_recipients(brand_id: int, contact_email: str = "") -> list[str]:
    """Who hears about the brand's place in the program: the application's contact and the active owners."""
    owners = BrandMembership.objects.active().filter(brand_id=brand_id, role=Role.OWNER).exclude(user__email="")
    addresses = [contact_email, *owners.order_by("pk").values_list("user__email", flat=True)]
    return list(dict.fromkeys(address.lower() for address in addresses if address))


def mail_on_commit(*, brand: Brand, subject: str, paragraphs: Sequence[str], contact_email: str = "") -> None:
    """E-mail the brand once the transaction commits (a rolled-back decision sends nothing)."""
    recipients = program_recipients(brand.pk, contact_email)
    if not recipients:
        return
    body = render_to_string(
        "brands/email/program_notice.txt",
        {
            "brand": brand,
            "paragraphs": paragraphs,
            "program_url": settings.MARKETSAFE["PORTAL_URL"].rstrip("/") + reverse("brands:program", args=[brand.slug]),
        },
    )
    mail.mail_on_commit(subject=f"MarketSafe: {subject}", body=body, recipients=recipients)


def mail_membership(membership: ProgramMembership, *, subject: str, paragraphs: Sequence[str]) -> None:
    """E-mail about a membership, to its application's contact and the brand's owners, on commit."""
    mail_on_commit(
        brand=membership.brand,
        contact_email=membership.application.contact_email,
        subject=subject,
        paragraphs=paragraphs,
    )


#: Who at the association hears about a member the nightly check flags: active staff who may change
#: memberships (the association reviewers), never a superuser by that right alone.
ASSOCIATION_PERMISSION = ("brands", "change_programmembership")


def association_recipients() -> list[str]:
    app_label, codename = ASSOCIATION_PERMISSION
    by_group = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    by_user = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    users = User.objects.filter(by_group | by_user, is_active=True, is_staff=True).exclude(email="")
    return sorted({address.lower() for address in users.values_list("email", flat=True)})


def mail_association(membership: ProgramMembership, *, subject: str, paragraphs: Sequence[str]) -> None:
    """E-mail the association's reviewers about a membership, on commit (nothing when none has an address)."""
    recipients = association_recipients()
    if not recipients:
        return
    portal = settings.MARKETSAFE["PORTAL_URL"].rstrip("/")
    body = render_to_string(
        "brands/email/association_notice.txt",
        {
            "paragraphs": paragraphs,
            "membership_url": portal + reverse("admin:brands_programmembership_change", args=[membership.pk]),
        },
    )
    mail.mail_on_commit(subject=f"MarketSafe: {subject}", body=body, recipients=recipients)


# --- memberships --------------------------------------------------------------------------------------


def memberships_end_current(*, brand: Brand, actor: User, reason: str) -> None:
    """End the brand's current membership, if any (a renewal's approval replaces it). The caller's
    transaction holds the locks."""
    current = ProgramMembership.objects.select_for_update().filter(brand=brand, status__in=MEMBERSHIP_CURRENT_STATUSES)
    for membership in current:
        MEMBERSHIPS.move(membership, "end", M.ENDED, actor=actor, reason=reason, ended_at=timezone.now())


def suspend(*, membership: ProgramMembership, actor: User | None, reason: str, now: datetime) -> None:
    """Suspend a (locked) membership and tell the brand why; `actor` None is the nightly check."""
    MEMBERSHIPS.move(
        membership,
        "suspend",
        M.SUSPENDED,
        actor=actor,
        automated=actor is None,
        reason=reason,
        verb="suspended",
        suspended_at=now,
    )
    mail_membership(
        membership,
        subject="your membership is suspended",
        paragraphs=[
            f"The MarketSafe membership of {membership.brand} is suspended: {reason}",
            "New notices take the standard lane, with evidence, until the association reinstates the"
            " membership. Notices filed before keep their lane.",
        ],
    )


@transaction.atomic
def membership_suspend(*, membership_id: int, actor: User, reason: str) -> ProgramMembership:
    """A reviewer suspends a membership (the nightly check suspends on accuracy by itself)."""
    reason = required(reason, "reason", "Give the brand the reason for the suspension.")
    membership = MEMBERSHIPS.lock(membership_id)
    suspend(membership=membership, actor=actor, reason=reason, now=timezone.now())
    return membership


@transaction.atomic
def membership_reinstate(*, membership_id: int, actor: User, reason: str = "") -> ProgramMembership:
    """A reviewer gives a suspended member the expedited lane back; the accuracy watch starts afresh."""
    reason = reason.strip()
    membership = MEMBERSHIPS.lock(membership_id)
    MEMBERSHIPS.check(membership, "reinstate", verb="reinstated")
    if membership.renews_on <= timezone.localdate():
        raise Conflict(
            f"This membership reached its renewal date ({membership.renews_on:%Y-%m-%d}); the brand applies again."
        )
    MEMBERSHIPS.move(
        membership,
        "reinstate",
        M.ACTIVE,
        actor=actor,
        reason=reason,
        check=False,  # checked above, before the renewal date
        below_thresholds_since=None,
        accuracy_note="",
    )
    mail_membership(
        membership,
        subject="your membership is reinstated",
        paragraphs=[
            f"The association reinstated the MarketSafe membership of {membership.brand}.",
            *([reason] if reason else []),
            "Your new notices take the expedited lane again.",
        ],
    )
    return membership
