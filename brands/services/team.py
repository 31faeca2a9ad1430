"""A brand's team: changing a member's role and removing a member (people join through `invitations`).

A brand always keeps an active owner: the check runs under a lock on every membership of the brand, so
two owners demoting each other at the same moment cannot both succeed. A removed membership is kept,
inactive, for the audit trail; an invitation brings the person back.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from brands.choices import Role
from brands.models import BrandMembership
from core.accounts.models import User
from core.audit.services import audit_record


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
