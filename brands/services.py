"""Writes of the brand side: the team (invitations, roles, removals) and the IP rights registry.

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
import secrets
import unicodedata
from collections.abc import Mapping
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

from brands.choices import ROLE_CAPABILITIES, Capability, DocumentKind, IPRightKind, IPRightStatus, Role
from brands.models import Brand, BrandMembership, Invitation, IPRight, IPRightDocument
from marketsafe.accounts.models import User
from marketsafe.audit.services import audit_record
from marketsafe.uploads import CheckedUpload

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
    """Store a checked document (see `marketsafe.uploads.check_upload`) with a right, in private storage."""
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
