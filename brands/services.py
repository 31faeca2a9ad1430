"""Writes of the brand side: the team (invitations, roles, removals), the IP rights registry and the
MarketSafe program (applications, their review, memberships and the nightly accuracy check).

Every service takes keyword arguments only, runs in one transaction and records an audit event, with the
brand's id, in that transaction. Who may call a service (an owner: `Capability.MANAGE`) is checked by
the views; the rules that hold whoever calls are checked here:

- a brand always keeps an active owner (checked under a lock on the brand's memberships, so two owners
  demoting each other at the same moment cannot both succeed);
- an invitation is a single-use link that expires; only the SHA-256 of its token is stored;
- changing the registration details of a right that was verified (or rejected, or expired) sends it back
  to pending verification: the marketplace verified the old details, not the new ones.
"""

import hashlib
import logging
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from brands.choices import (
    APPLICATION_OPEN_STATUSES,
    MEMBERSHIP_ACTIVE_STATUSES,
    MEMBERSHIP_CURRENT_STATUSES,
    ROLE_CAPABILITIES,
    ApplicationStatus,
    Capability,
    DocumentKind,
    IPRightKind,
    IPRightStatus,
    MembershipStatus,
    Role,
)
from brands.models import (
    ApplicationDocument,
    Brand,
    BrandMembership,
    InformationRequest,
    Invitation,
    IPRight,
    IPRightDocument,
    ProgramApplication,
    ProgramMembership,
)
from brands.selectors import TrackRecord, program_standing, track_records
from core.accounts.models import User
from core.audit.services import audit_record
from core.uploads import CheckedUpload

logger = logging.getLogger(__name__)

#: How long an invitation link works.
INVITATION_VALID_FOR = timedelta(days=7)


# --- invitations ----------------------------------------------------------------------------------


def role_description(role: str) -> str:
    """What a role may do, from its capabilities (one source for the invite form and the e-mail)."""
    allowed = ROLE_CAPABILITIES[role]
    text = "; ".join(str(c.label)[0].lower() + str(c.label)[1:] for c in Capability if c in allowed)
    return text[0].upper() + text[1:] + "."


def _day(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


class InvitationNotUsable(Exception):
    """The link's token matches no invitation, or its invitation was accepted, revoked or has expired."""

    def __init__(self, status: str, invitation: Invitation | None = None) -> None:
        self.status = status  # one of Invitation.Status, or "invalid"
        self.invitation = invitation
        super().__init__(status)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_from_token(*, token: str, for_update: bool = False) -> Invitation:
    """The pending invitation behind a link's token, or InvitationNotUsable saying why there is none.

    Used by the accept page (to show what the link offers) and, locked, by the services that accept it.
    """
    queryset = Invitation.objects.select_related("brand", "invited_by")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    invitation = queryset.filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise InvitationNotUsable("invalid")
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationNotUsable(invitation.status, invitation)
    return invitation


def _send_invitation(*, invitation: Invitation, token: str, site_url: str) -> None:
    context = {
        "invitation": invitation,
        "role_description": role_description(invitation.role),
        "link": site_url.rstrip("/") + reverse("invitation_accept", kwargs={"token": token}),
        "expires": date_format(timezone.localtime(invitation.expires_at), "j F Y, H:i T"),
    }
    subject = render_to_string("brands/email/invitation_subject.txt", context).strip()
    send_mail(
        subject,
        render_to_string("brands/email/invitation_message.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
    )


@transaction.atomic
def invitation_create(*, brand: Brand, email: str, role: str, invited_by: User, site_url: str) -> Invitation:
    """Invite `email` to `brand` with `role`; the link is e-mailed once the transaction commits.

    `site_url` (scheme and host, from the request) is where the link points. Only the token's hash is
    stored: the raw token leaves this function only in the e-mail.
    """
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from error
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    member = (
        BrandMembership.objects.filter(brand=brand, is_active=True, user__email__iexact=email)
        .select_related("user")
        .first()
    )
    if member is not None:
        raise ValidationError(
            {"email": f"{email} is already a member of {brand} ({member.user}, {member.get_role_display()})."}
        )
    now = timezone.now()
    for previous in Invitation.objects.select_for_update().filter(brand=brand, email__iexact=email).open():
        if previous.expires_at > now:
            raise ValidationError(
                {
                    "email": f"{email} was already invited on {_day(previous.created_at)} and the link works"
                    f" until {_day(previous.expires_at)}. Revoke that invitation on the team page to send a new"
                    " link."
                }
            )
        # An expired link is closed so the new one can take its place (one open invitation per address).
        _invitation_close(invitation=previous, actor=invited_by, reason="Expired; replaced by a new invitation.")

    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        brand=brand,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=invited_by,
        expires_at=now + INVITATION_VALID_FOR,
    )
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as error:
        # Another owner invited the same address at the same moment.
        raise ValidationError({"email": f"{email} has just been invited by someone else."}) from error
    audit_record(
        action="invitation.create",
        target=invitation,
        actor=invited_by,
        to_state=Invitation.Status.PENDING,
        brand_id=brand.pk,
        data={"email": email, "role": role},
    )
    transaction.on_commit(lambda: _send_invitation(invitation=invitation, token=token, site_url=site_url))
    return invitation


def _invitation_close(*, invitation: Invitation, actor: User, reason: str = "") -> None:
    from_state = invitation.status
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action="invitation.revoke",
        target=invitation,
        actor=actor,
        from_state=from_state,
        to_state=Invitation.Status.REVOKED,
        reason=reason,
        brand_id=invitation.brand_id,
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Make an open invitation's link stop working (an expired one may be revoked to tidy the list)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(
            f"The invitation of {invitation.email} was already accepted; remove the member from the team instead."
        )
    if invitation.revoked_at is not None:
        raise ValidationError(f"The invitation of {invitation.email} was already revoked.")
    _invitation_close(invitation=invitation, actor=actor)
    return invitation


def _invitation_use(*, invitation: Invitation, user: User, signed_up: bool) -> BrandMembership:
    """Add `user` to the brand with the invitation's role and mark the (locked, pending) invitation used."""
    membership = BrandMembership.objects.select_for_update().filter(brand=invitation.brand, user=user).first()
    if membership is not None and membership.is_active:
        raise ValidationError(
            f"You are already a member of {invitation.brand} ({membership.get_role_display()}). If you need"
            " another role, ask one of its owners."
        )
    if membership is None:
        membership = BrandMembership.objects.create(brand=invitation.brand, user=user, role=invitation.role)
        from_state = ""
    else:
        from_state = "removed"
        membership.role = invitation.role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        action="invitation.accept",
        target=invitation,
        actor=user,
        from_state=Invitation.Status.PENDING,
        to_state=Invitation.Status.ACCEPTED,
        brand_id=invitation.brand_id,
    )
    audit_record(
        action="membership.add",
        target=membership,
        actor=user,
        from_state=from_state,
        to_state=membership.role,
        brand_id=invitation.brand_id,
        data={"invitation_id": invitation.pk, "invited_by_id": invitation.invited_by_id, "signed_up": signed_up},
    )
    return membership


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> BrandMembership:
    """Add the logged-in `user` to the invitation's brand with its role; the link then stops working.

    Raises InvitationNotUsable for an unknown, used, revoked or expired link (the invitation row is
    locked, so a link clicked twice at once is used once).
    """
    invitation = invitation_from_token(token=token, for_update=True)
    return _invitation_use(invitation=invitation, user=user, signed_up=False)


@transaction.atomic
def invitation_signup(*, token: str, username: str, password: str) -> User:
    """Create an account for the invitee (with the invitation's e-mail address) and accept the invitation.

    All or nothing: an invitation that turns out to be unusable leaves no account behind. The caller
    validates the password against the password validators (the form does).
    """
    invitation = invitation_from_token(token=token, for_update=True)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(
            f"An account with the address {invitation.email} already exists: log in to accept the invitation."
        )
    user = User(username=username, email=invitation.email)
    user.set_password(password)
    user.full_clean()
    user.save()
    _invitation_use(invitation=invitation, user=user, signed_up=True)
    return user


# --- memberships ----------------------------------------------------------------------------------


def _lock_team(brand_id: int) -> list[BrandMembership]:
    """Lock every membership of the brand, in primary-key order so concurrent callers queue, not deadlock."""
    return list(
        BrandMembership.objects.select_for_update(of=("self",))
        .filter(brand_id=brand_id)
        .select_related("user", "brand")
        .order_by("pk")
    )


def _locked_member(membership: BrandMembership) -> tuple[BrandMembership, list[BrandMembership]]:
    team = _lock_team(membership.brand_id)
    current = next(m for m in team if m.pk == membership.pk)
    if not current.is_active:
        raise ValidationError(f"{current.user} is no longer a member of {current.brand}.")
    return current, team


def _refuse_last_owner(member: BrandMembership, team: list[BrandMembership], *, field: str | None) -> None:
    owners = [m for m in team if m.is_active and m.role == Role.OWNER]
    if owners == [member]:
        message = (
            f"{member.user} is the last owner of {member.brand}: make another member an owner first, so"
            " that someone can still manage the team and the IP rights."
        )
        raise ValidationError({field: message} if field else message)


@transaction.atomic
def membership_change_role(*, membership: BrandMembership, role: str, actor: User) -> BrandMembership:
    """Give an active member another role; the brand's last active owner cannot be demoted."""
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    member, team = _locked_member(membership)
    if member.role == role:
        return member
    if role != Role.OWNER:
        _refuse_last_owner(member, team, field="role")
    from_state = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        action="membership.change_role",
        target=member,
        actor=actor,
        from_state=from_state,
        to_state=role,
        brand_id=member.brand_id,
    )
    return member


@transaction.atomic
def membership_remove(*, membership: BrandMembership, actor: User) -> BrandMembership:
    """Deactivate a membership (kept for the audit trail; an invitation brings the person back)."""
    member, team = _locked_member(membership)
    _refuse_last_owner(member, team, field=None)
    member.is_active = False
    member.save(update_fields=["is_active"])
    audit_record(
        action="membership.remove",
        target=member,
        actor=actor,
        from_state=member.role,
        to_state="removed",
        brand_id=member.brand_id,
    )
    return member


# --- IP rights ------------------------------------------------------------------------------------

#: What the marketplace verifies: changing any of these on a right that is not pending re-opens verification.
REGISTRATION_FIELDS = (
    "kind",
    "name",
    "registration_number",
    "office",
    "classes",
    "owner_name",
    "valid_from",
    "valid_until",
)


def _validate_right(*, right: IPRight) -> None:
    """Rules a form cannot check alone: the validity period's order and one right per registration."""
    if right.kind not in IPRightKind.values:
        raise ValidationError({"kind": f"{right.kind!r} is not a kind of IP right."})
    if right.valid_from and right.valid_until and right.valid_until < right.valid_from:
        raise ValidationError(
            {
                "valid_until": f"The end of validity ({right.valid_until:%Y-%m-%d}) is before its start"
                f" ({right.valid_from:%Y-%m-%d})."
            }
        )
    duplicate = (
        IPRight.objects.filter(
            brand_id=right.brand_id, office__iexact=right.office, registration_number__iexact=right.registration_number
        )
        .exclude(pk=right.pk)
        .first()
    )
    if duplicate is not None:
        raise ValidationError(
            {
                "registration_number": f"{right.office} {right.registration_number} is already in the registry"
                f" as {duplicate.name}."
            }
        )


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def ip_right_create(
    *,
    brand: Brand,
    actor: User,
    kind: str,
    name: str,
    registration_number: str,
    office: str,
    owner_name: str,
    classes: list[int] | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    document: CheckedUpload | None = None,
    document_kind: str = DocumentKind.CERTIFICATE,
) -> IPRight:
    """Add a right to the brand's registry, pending verification by marketplace staff, with its document."""
    right = IPRight(
        brand=brand,
        kind=kind,
        name=name.strip(),
        registration_number=registration_number.strip(),
        office=office.strip(),
        owner_name=owner_name.strip(),
        classes=sorted(set(classes or [])),
        valid_from=valid_from,
        valid_until=valid_until,
        status=IPRightStatus.PENDING,
    )
    _validate_right(right=right)
    right.save()
    audit_record(
        action="ip_right.create",
        target=right,
        actor=actor,
        to_state=right.status,
        brand_id=brand.pk,
        data={field: _audit_value(getattr(right, field)) for field in REGISTRATION_FIELDS},
    )
    if document is not None:
        ip_right_add_document(right=right, actor=actor, upload=document, kind=document_kind)
    return right


@transaction.atomic
def ip_right_update(*, right: IPRight, actor: User, data: Mapping[str, Any]) -> IPRight:
    """Change a right's registration details; a right that is not pending goes back to pending.

    `data` holds any of REGISTRATION_FIELDS. The right is locked, so a verification that commits while
    the owner edits is either seen (and undone, since it verified the old details) or waits.
    """
    unknown = set(data) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValueError(f"Not registration fields of an IP right: {sorted(unknown)}")
    right = IPRight.objects.select_for_update().get(pk=right.pk)
    if right.retired_at is not None:
        raise ValidationError(f"{right} was retired on {_day(right.retired_at)}; a retired right is not edited.")
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
    if "classes" in cleaned:
        cleaned["classes"] = sorted(set(cleaned["classes"] or []))
    changes = {key: (getattr(right, key), value) for key, value in cleaned.items() if getattr(right, key) != value}
    if not changes:
        return right
    for key, (_, new) in changes.items():
        setattr(right, key, new)
    _validate_right(right=right)
    from_state = right.status
    update_fields = list(changes)
    if right.status != IPRightStatus.PENDING:
        right.status = IPRightStatus.PENDING
        right.verified_at = None
        right.verified_by = None
        update_fields += ["status", "verified_at", "verified_by"]
    right.save(update_fields=update_fields)
    audit_record(
        action="ip_right.update",
        target=right,
        actor=actor,
        from_state=from_state,
        to_state=right.status,
        brand_id=right.brand_id,
        data={key: [_audit_value(old), _audit_value(new)] for key, (old, new) in changes.items()},
    )
    return right


@transaction.atomic
def ip_right_retire(*, right: IPRight, actor: User, reason: str = "") -> IPRight:
    """Mark that the brand no longer relies on a right: it stays in the registry, new cases cannot cite it."""
    right = IPRight.objects.select_for_update().get(pk=right.pk)
    if right.retired_at is not None:
        raise ValidationError(f"{right} was already retired on {_day(right.retired_at)}.")
    right.retired_at = timezone.now()
    right.save(update_fields=["retired_at"])
    audit_record(
        action="ip_right.retire",
        target=right,
        actor=actor,
        from_state=right.status,
        to_state="retired",
        reason=reason.strip(),
        brand_id=right.brand_id,
    )
    return right


def _display_name(upload: CheckedUpload) -> str:
    """The uploader's file name, kept only as metadata: no path, no control characters, bounded length."""
    name = PurePath((upload.file.name or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-255:] or "document"


@transaction.atomic
def ip_right_add_document(
    *, right: IPRight, actor: User, upload: CheckedUpload, kind: str = DocumentKind.CERTIFICATE
) -> IPRightDocument:
    """Store a checked document (see `core.uploads.check_upload`) with a right, in private storage."""
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": f"{kind!r} is not a kind of document."})
    if right.retired_at is not None:
        raise ValidationError(f"{right} is retired; it takes no new documents.")
    document = IPRightDocument.objects.create(
        right=right,
        kind=kind,
        file=upload.file,
        original_name=_display_name(upload),
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        uploaded_by=actor,
    )
    audit_record(
        action="ip_right.add_document",
        target=right,
        actor=actor,
        brand_id=right.brand_id,
        data={"document_id": document.pk, "name": document.original_name, "kind": kind, "sha256": upload.sha256},
    )
    return document


# --- the MarketSafe program -------------------------------------------------------------------------
# An owner applies (draft → submitted); an association reviewer starts the review, asks for information
# (→ info requested; the brand answers and resubmits), approves (a membership with a renewal date) or
# rejects with a reason. Every decision locks the application, refuses a transition its status does not
# allow, is audited and is e-mailed to the brand once the transaction commits. Memberships are watched
# every night (`memberships_monitor`): warned near a threshold, suspended after the warning period below
# one, reminded before the renewal date and lapsed after it. A reviewer may suspend and reinstate.

A = ApplicationStatus
M = MembershipStatus

#: action → application statuses it may start from.
APPLICATION_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "edit": (A.DRAFT, A.INFO_REQUESTED),
    "submit": (A.DRAFT, A.INFO_REQUESTED),
    "start_review": (A.SUBMITTED,),
    "request_info": (A.SUBMITTED, A.UNDER_REVIEW),
    "approve": (A.SUBMITTED, A.UNDER_REVIEW),
    "reject": (A.SUBMITTED, A.UNDER_REVIEW),
}
#: action → membership statuses it may start from.
MEMBERSHIP_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "suspend": (M.ACTIVE, M.WARNED),
    "reinstate": (M.SUSPENDED,),
}

#: The application's details an owner fills in (the rights and documents are passed separately).
APPLICATION_FIELDS = (
    "company_name",
    "association_member_number",
    "contact_name",
    "contact_email",
    "enforcement_statement",
)


def _program_rules() -> dict:
    return settings.MARKETSAFE


def _labels(statuses: Sequence[str], choices: type) -> str:
    names = [str(choices(status).label) for status in statuses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _check_application(application: ProgramApplication, action: str, verb: str) -> None:
    allowed = APPLICATION_ALLOWED_FROM[action]
    if application.status not in allowed:
        raise ValidationError(
            f"This application cannot be {verb}: it is {application.get_status_display()}, and only an"
            f" application that is {_labels(allowed, ApplicationStatus)} can."
        )


def _check_membership(membership: ProgramMembership, action: str, verb: str) -> None:
    allowed = MEMBERSHIP_ALLOWED_FROM[action]
    if membership.status not in allowed:
        raise ValidationError(
            f"This membership cannot be {verb}: it is {membership.get_status_display()}, and only a"
            f" membership that is {_labels(allowed, MembershipStatus)} can."
        )


def program_recipients(brand_id: int, contact_email: str = "") -> list[str]:
    """Who hears about the brand's place in the program: the application's contact and the active owners."""
    owners = BrandMembership.objects.filter(brand_id=brand_id, is_active=True, role=Role.OWNER).exclude(user__email="")
    addresses = [contact_email, *owners.order_by("pk").values_list("user__email", flat=True)]
    return list(dict.fromkeys(address.lower() for address in addresses if address))


def _mail_on_commit(*, brand: Brand, subject: str, paragraphs: Sequence[str], contact_email: str = "") -> None:
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
    transaction.on_commit(lambda: send_mail(f"MarketSafe: {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients))


def _lock_application(application_id: int) -> ProgramApplication:
    return ProgramApplication.objects.select_for_update(of=("self",)).select_related("brand").get(pk=application_id)


def _validate_application_rights(brand: Brand, rights: Sequence[IPRight]) -> None:
    usable = set(IPRight.objects.filter(brand=brand).usable().values_list("pk", flat=True))
    for right in rights:
        if right.brand_id != brand.pk or right.pk not in usable:
            raise ValidationError({"rights": f"{right} is not a verified, current right of {brand}."})


@transaction.atomic
def application_save(
    *,
    brand: Brand,
    actor: User,
    data: Mapping[str, Any],
    rights: Sequence[IPRight],
    documents: Sequence[CheckedUpload] = (),
    response: str = "",
    submit: bool = False,
    attest: bool = False,
) -> ProgramApplication:
    """Create or update the brand's open application (a draft, or one with information requested), add
    its documents, keep the answer to the open information request, and with `submit` submit it.

    All or nothing: a submission that fails its checks leaves the stored draft as it was.
    """
    unknown = set(data) - set(APPLICATION_FIELDS)
    if unknown:
        raise ValueError(f"Not fields of an application: {sorted(unknown)}")
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}
    application = (
        ProgramApplication.objects.select_for_update(of=("self",))
        .filter(brand=brand, status__in=APPLICATION_OPEN_STATUSES)
        .first()
    )
    if application is None:
        application = ProgramApplication(brand=brand, created_by=actor, status=A.DRAFT)
        from_state = ""
    else:
        _check_application(application, "edit", "changed")
        from_state = application.status
    _validate_application_rights(brand, rights)
    for key, value in cleaned.items():
        setattr(application, key, value)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as error:
        # Another owner started an application at the same moment.
        raise ValidationError("Another owner has just started an application; reload the page.") from error
    application.rights.set(rights)
    for upload in documents:
        ApplicationDocument.objects.create(
            application=application,
            file=upload.file,
            original_name=_display_name(upload),
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            uploaded_by=actor,
        )
    open_request = application.information_requests.filter(responded_at__isnull=True).order_by("pk").last()
    if open_request is not None and response.strip():
        open_request.response = response.strip()
        open_request.save(update_fields=["response"])
    audit_record(
        action="application.save",
        target=application,
        actor=actor,
        from_state=from_state,
        to_state=application.status,
        brand_id=brand.pk,
        data={"fields": sorted(cleaned), "rights": [r.pk for r in rights], "documents": len(documents)},
    )
    if submit:
        return _application_submit(application=application, actor=actor, attest=attest, open_request=open_request)
    return application


def _application_submit(
    *, application: ProgramApplication, actor: User, attest: bool, open_request: InformationRequest | None
) -> ProgramApplication:
    _check_application(application, "submit", "submitted")
    errors: dict[str, list[str]] = {}
    for name in ("company_name", "contact_name", "contact_email", "enforcement_statement"):
        if not getattr(application, name):
            label = ProgramApplication._meta.get_field(name).verbose_name
            errors.setdefault(name, []).append(f"Enter the {label} before submitting.")
    if not application.rights.exists():
        errors.setdefault("rights", []).append("Choose at least one verified IP right the membership covers.")
    if open_request is not None and not open_request.response:
        errors.setdefault("response", []).append("Answer the association's request before resubmitting.")
    if not attest:
        errors.setdefault("attest", []).append("Confirm the attestation to submit the application.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    from_state = application.status
    application.status = A.SUBMITTED
    application.submitted_at = application.submitted_at or now
    application.attested_by = actor
    application.attested_at = now
    application.save(update_fields=["status", "submitted_at", "attested_by", "attested_at"])
    if open_request is not None:
        open_request.responded_by = actor
        open_request.responded_at = now
        open_request.save(update_fields=["responded_by", "responded_at"])
    audit_record(
        action="application.submit",
        target=application,
        actor=actor,
        from_state=from_state,
        to_state=application.status,
        brand_id=application.brand_id,
        data={"information_request_id": open_request.pk} if open_request else {},
    )
    return application


def _required(text: str, field: str, message: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({field: message})
    return text


def _application_move(
    *, application_id: int, action: str, verb: str, to_state: str, actor: User, reason: str = "", decides: bool = False
) -> ProgramApplication:
    """Lock the application, check `action` is allowed from its status, move it to `to_state` (recording
    the decision when `decides`) and audit it. The caller's transaction holds the lock."""
    application = _lock_application(application_id)
    _check_application(application, action, verb)
    from_state = application.status
    application.status = to_state
    fields = ["status"]
    if decides:
        application.decided_at = timezone.now()
        application.decided_by = actor
        application.decision_reason = reason
        fields += ["decided_at", "decided_by", "decision_reason"]
    application.save(update_fields=fields)
    audit_record(
        action=f"application.{action}",
        target=application,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        brand_id=application.brand_id,
    )
    return application


@transaction.atomic
def application_start_review(*, application_id: int, actor: User) -> ProgramApplication:
    return _application_move(
        application_id=application_id,
        action="start_review",
        verb="taken into review",
        to_state=A.UNDER_REVIEW,
        actor=actor,
    )


@transaction.atomic
def application_request_info(*, application_id: int, actor: User, message: str) -> InformationRequest:
    message = _required(message, "message", "Say what the brand should add or explain.")
    application = _application_move(
        application_id=application_id,
        action="request_info",
        verb="sent back for information",
        to_state=A.INFO_REQUESTED,
        actor=actor,
        reason=message,
    )
    request = InformationRequest.objects.create(application=application, message=message, requested_by=actor)
    _mail_on_commit(
        brand=application.brand,
        contact_email=application.contact_email,
        subject="the association asks for more information",
        paragraphs=[
            "The association reviewing your MarketSafe application asks:",
            message,
            "Answer on your program page and submit the application again.",
        ],
    )
    return request


def _end_current_membership(*, brand: Brand, actor: User, reason: str) -> None:
    current = ProgramMembership.objects.select_for_update().filter(brand=brand, status__in=MEMBERSHIP_CURRENT_STATUSES)
    for membership in current:
        from_state = membership.status
        membership.status = M.ENDED
        membership.ended_at = timezone.now()
        membership.save(update_fields=["status", "ended_at"])
        audit_record(
            action="membership.end",
            target=membership,
            actor=actor,
            from_state=from_state,
            to_state=membership.status,
            reason=reason,
            brand_id=brand.pk,
        )


@transaction.atomic
def application_approve(
    *, application_id: int, actor: User, renews_on: date | None = None, reason: str = ""
) -> ProgramMembership:
    """Approve: the brand becomes a member until `renews_on` (a term from today by default); a current
    membership (a renewal) is ended and replaced by the new one."""
    now = timezone.now()
    today = timezone.localdate(now)
    renews_on = renews_on or today + _program_rules()["PROGRAM_MEMBERSHIP_TERM"]
    if renews_on <= today:
        raise ValidationError({"renews_on": f"The renewal date must be after today ({today:%Y-%m-%d})."})
    application = _application_move(
        application_id=application_id,
        action="approve",
        verb="approved",
        to_state=A.APPROVED,
        actor=actor,
        reason=reason.strip(),
        decides=True,
    )
    _end_current_membership(brand=application.brand, actor=actor, reason="Renewed by a new approved application.")
    membership = ProgramMembership.objects.create(
        brand=application.brand, application=application, status=M.ACTIVE, started_at=now, renews_on=renews_on
    )
    audit_record(
        action="membership.start",
        target=membership,
        actor=actor,
        to_state=membership.status,
        brand_id=application.brand_id,
        data={"application_id": application.pk, "renews_on": renews_on.isoformat()},
    )
    _mail_on_commit(
        brand=application.brand,
        contact_email=application.contact_email,
        subject="your application is approved",
        paragraphs=[
            f"{application.brand} is a member of the MarketSafe program until {renews_on:%d %B %Y}.",
            "From now on your new notices take the expedited lane: evidence is optional for reasons visible on"
            " the listing, and they are reviewed first, within a shorter deadline. Notices filed before keep"
            " their lane.",
            *([application.decision_reason] if application.decision_reason else []),
            "Membership depends on your accuracy: we warn you if it comes close to the program's thresholds.",
        ],
    )
    return membership


@transaction.atomic
def application_reject(*, application_id: int, actor: User, reason: str) -> ProgramApplication:
    reason = _required(reason, "reason", "Give the brand the reason for the rejection.")
    application = _application_move(
        application_id=application_id,
        action="reject",
        verb="rejected",
        to_state=A.REJECTED,
        actor=actor,
        reason=reason,
        decides=True,
    )
    _mail_on_commit(
        brand=application.brand,
        contact_email=application.contact_email,
        subject="your application is rejected",
        paragraphs=[
            "The association rejected your application to the MarketSafe program, for this reason:",
            reason,
            "Your notices keep the standard lane. You may apply again from your program page.",
        ],
    )
    return application


def _membership_contact(membership: ProgramMembership) -> str:
    return membership.application.contact_email


def _lock_membership(membership_id: int) -> ProgramMembership:
    return (
        ProgramMembership.objects.select_for_update(of=("self",))
        .select_related("brand", "application")
        .get(pk=membership_id)
    )


def _suspend(*, membership: ProgramMembership, actor: User | None, reason: str, now: datetime) -> None:
    from_state = membership.status
    membership.status = M.SUSPENDED
    membership.suspended_at = now
    membership.save(update_fields=["status", "suspended_at", "accuracy_note", "below_thresholds_since"])
    audit_record(
        action="membership.suspend",
        target=membership,
        actor=actor,
        automated=actor is None,
        from_state=from_state,
        to_state=membership.status,
        reason=reason,
        brand_id=membership.brand_id,
    )
    _mail_on_commit(
        brand=membership.brand,
        contact_email=_membership_contact(membership),
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
    reason = _required(reason, "reason", "Give the brand the reason for the suspension.")
    membership = _lock_membership(membership_id)
    _check_membership(membership, "suspend", "suspended")
    _suspend(membership=membership, actor=actor, reason=reason, now=timezone.now())
    return membership


@transaction.atomic
def membership_reinstate(*, membership_id: int, actor: User, reason: str = "") -> ProgramMembership:
    """A reviewer gives a suspended member the expedited lane back; the accuracy watch starts afresh."""
    membership = _lock_membership(membership_id)
    _check_membership(membership, "reinstate", "reinstated")
    if membership.renews_on <= timezone.localdate():
        raise ValidationError(
            f"This membership reached its renewal date ({membership.renews_on:%Y-%m-%d}); the brand applies again."
        )
    membership.status = M.ACTIVE
    membership.below_thresholds_since = None
    membership.accuracy_note = ""
    membership.save(update_fields=["status", "below_thresholds_since", "accuracy_note"])
    audit_record(
        action="membership.reinstate",
        target=membership,
        actor=actor,
        from_state=M.SUSPENDED,
        to_state=membership.status,
        reason=reason.strip(),
        brand_id=membership.brand_id,
    )
    _mail_on_commit(
        brand=membership.brand,
        contact_email=_membership_contact(membership),
        subject="your membership is reinstated",
        paragraphs=[
            f"The association reinstated the MarketSafe membership of {membership.brand}.",
            *([reason.strip()] if reason.strip() else []),
            "Your new notices take the expedited lane again.",
        ],
    )
    return membership


# --- the nightly check ------------------------------------------------------------------------------

#: Memberships whose track records are read in one query.
MONITOR_BATCH = 500


def memberships_monitor(*, now: datetime | None = None) -> dict[str, int]:
    """Check every current membership once per night (idempotent: a membership checked today is skipped):
    lapse it after its renewal date, remind before it, and judge the accuracy of active members.

    Each membership is handled in its own transaction under its row lock, so a reviewer's decision and
    the check never overwrite each other and a failure leaves the others done.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = dict.fromkeys(("checked", "warned", "recovered", "suspended", "lapsed", "reminded", "failed"), 0)
    due = ProgramMembership.objects.filter(status__in=MEMBERSHIP_CURRENT_STATUSES).exclude(checked_on=today)
    last_pk = 0
    while True:
        batch = list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "brand_id")[:MONITOR_BATCH])
        if not batch:
            return counts
        last_pk = batch[-1][0]
        records = track_records(brand_ids=sorted({brand_id for _, brand_id in batch}), now=now)
        for membership_id, brand_id in batch:
            try:
                outcomes = _membership_check(membership_id=membership_id, record=records[brand_id], now=now)
            except Exception:
                # One membership's failure (rolled back, retried the next night) does not stop the others.
                logger.exception("MarketSafe check of membership %s failed", membership_id)
                outcomes = ["failed"]
            for outcome in outcomes:
                counts[outcome] += 1


@transaction.atomic
def _membership_check(*, membership_id: int, record: TrackRecord, now: datetime) -> list[str]:
    today = timezone.localdate(now)
    membership = _lock_membership(membership_id)
    if membership.checked_on == today or membership.status not in MEMBERSHIP_CURRENT_STATUSES:
        return []
    outcomes = ["checked"]
    membership.checked_on = today
    if membership.renews_on < today:
        from_state = membership.status
        membership.status = M.LAPSED
        membership.ended_at = now
        membership.save(update_fields=["status", "ended_at", "checked_on"])
        audit_record(
            action="membership.lapse",
            target=membership,
            automated=True,
            from_state=from_state,
            to_state=membership.status,
            reason=f"Not renewed by {membership.renews_on:%Y-%m-%d}.",
            brand_id=membership.brand_id,
        )
        _mail_on_commit(
            brand=membership.brand,
            contact_email=_membership_contact(membership),
            subject="your membership has lapsed",
            paragraphs=[
                f"The MarketSafe membership of {membership.brand} lapsed on its renewal date,"
                f" {membership.renews_on:%d %B %Y}. New notices take the standard lane.",
                "Apply again from your program page to rejoin.",
            ],
        )
        return [*outcomes, "lapsed"]
    if membership.status in MEMBERSHIP_ACTIVE_STATUSES:
        outcomes += _remind(membership, today)
        outcomes += _judge(membership, record, now)
    membership.save(
        update_fields=[
            "status",
            "warned_at",
            "checked_on",
            "below_thresholds_since",
            "accuracy_note",
            "renewal_reminder_days",
        ]
    )
    return outcomes


def _remind(membership: ProgramMembership, today: date) -> list[str]:
    days_left = (membership.renews_on - today).days
    windows = [days for days in _program_rules()["PROGRAM_RENEWAL_REMINDER_DAYS"] if days_left <= days]
    if not windows:
        return []
    window = min(windows)
    if membership.renewal_reminder_days is not None and membership.renewal_reminder_days <= window:
        return []
    membership.renewal_reminder_days = window
    audit_record(
        action="membership.renewal_reminder",
        target=membership,
        automated=True,
        brand_id=membership.brand_id,
        data={"renews_on": membership.renews_on.isoformat(), "days_left": days_left},
    )
    _mail_on_commit(
        brand=membership.brand,
        contact_email=_membership_contact(membership),
        subject=f"your membership renews on {membership.renews_on:%d %B %Y}",
        paragraphs=[
            f"The MarketSafe membership of {membership.brand} ends on {membership.renews_on:%d %B %Y}"
            f" ({days_left} days from now) unless it is renewed.",
            "To renew, submit a new application from your program page; the association reviews it and the"
            " new membership takes over from the current one.",
        ],
    )
    return ["reminded"]


def _judge(membership: ProgramMembership, record: TrackRecord, now: datetime) -> list[str]:
    standing = program_standing(record)
    rules = _program_rules()
    if standing.level == "below":
        membership.below_thresholds_since = membership.below_thresholds_since or now
    else:
        membership.below_thresholds_since = None
    if standing.level == "ok":
        if membership.status != M.WARNED:
            return []
        membership.status = M.ACTIVE
        membership.accuracy_note = ""
        audit_record(
            action="membership.recover",
            target=membership,
            automated=True,
            from_state=M.WARNED,
            to_state=M.ACTIVE,
            brand_id=membership.brand_id,
        )
        _mail_on_commit(
            brand=membership.brand,
            contact_email=_membership_contact(membership),
            subject="your accuracy is back within the program's thresholds",
            paragraphs=[f"The accuracy warning on the MarketSafe membership of {membership.brand} is lifted."],
        )
        return ["recovered"]
    membership.accuracy_note = standing.note
    if membership.status == M.ACTIVE:
        membership.status = M.WARNED
        membership.warned_at = now
        audit_record(
            action="membership.warn",
            target=membership,
            automated=True,
            from_state=M.ACTIVE,
            to_state=M.WARNED,
            reason=standing.note,
            brand_id=membership.brand_id,
        )
        period = rules["PROGRAM_WARNING_PERIOD"].days
        _mail_on_commit(
            brand=membership.brand,
            contact_email=_membership_contact(membership),
            subject="accuracy warning",
            paragraphs=[
                f"The accuracy of {membership.brand}'s notices over the last"
                f" {rules['PROGRAM_ACCURACY_WINDOW'].days} days is close to or below the MarketSafe program's"
                " thresholds:",
                standing.note,
                f"A membership below a threshold for {period} days is suspended. Check your reports before"
                " you file them; your dashboard shows the figures per reason.",
            ],
        )
        return ["warned"]
    since = membership.below_thresholds_since
    if standing.level == "below" and since is not None and since <= now - rules["PROGRAM_WARNING_PERIOD"]:
        _suspend(
            membership=membership,
            actor=None,
            reason=f"accuracy below the program's thresholds since {since:%d %B %Y}: {standing.note}",
            now=now,
        )
        return ["suspended"]
    return []
