"""Inviting people to a brand's team, and the invitee's side: accepting with an account, or signing up.

An invitation is a single-use link that expires (`INVITATION_VALID_FOR`); only the SHA-256 of its token is
stored, the raw token leaves `invitation_create` only in the e-mail. At most one invitation per brand and
address is open at a time. An invitation's status is read from its timestamps (`Invitation.status`), so
its moves are written here rather than by a `core.transitions.StateMachine`; refusing to revoke one that
was used or revoked already is a `core.errors.Conflict`, and a link that cannot be used any more raises
`InvitationNotUsable`.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from brands.choices import ROLE_CAPABILITIES, Capability, Role
from brands.models import Brand, BrandMembership, Invitation
from brands.services.common import day
from core.accounts.models import User
from core.audit.services import audit_record
from core.errors import Conflict, DomainError
from core.mail import mail_on_commit

#: How long an invitation link works.
INVITATION_VALID_FOR = timedelta(days=7)


def role_description(role: str) -> str:
    """What a role may do, from its capabilities (one source for the invite form and the e-mail)."""
    allowed = ROLE_CAPABILITIES[role]
    text = "; ".join(str(c.label)[0].lower() + str(c.label)[1:] for c in Capability if c in allowed)
    return text[0].upper() + text[1:] + "."


class InvitationNotUsable(DomainError):
    """The link's token matches no invitation (404), or its invitation was accepted, revoked or has expired
    (410, gone): `invitation_status` says which, "invalid" for no invitation."""

    code = "invitation_not_usable"
    MESSAGES = {
        "invalid": "This invitation link is not valid.",
        Invitation.Status.EXPIRED: "This invitation has expired.",
        Invitation.Status.ACCEPTED: "This invitation has already been used.",
        Invitation.Status.REVOKED: "This invitation was withdrawn.",
    }

    def __init__(self, invitation_status: str, invitation: Invitation | None = None) -> None:
        super().__init__(self.MESSAGES[invitation_status])
        self.invitation_status = invitation_status
        self.invitation = invitation
        self.status = 404 if invitation_status == "invalid" else 410


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
    mail_on_commit(
        subject=render_to_string("brands/email/invitation_subject.txt", context).strip(),
        body=render_to_string("brands/email/invitation_message.txt", context),
        recipients=[invitation.email],
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
        BrandMembership.objects.active().filter(brand=brand, user__email__iexact=email).select_related("user").first()
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
                    "email": f"{email} was already invited on {day(previous.created_at)} and the link works"
                    f" until {day(previous.expires_at)}. Revoke that invitation on the team page to send a new"
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
    _send_invitation(invitation=invitation, token=token, site_url=site_url)  # sent once this commits
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
        raise Conflict(
            f"The invitation of {invitation.email} was already accepted; remove the member from the team instead."
        )
    if invitation.revoked_at is not None:
        raise Conflict(f"The invitation of {invitation.email} was already revoked.")
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
