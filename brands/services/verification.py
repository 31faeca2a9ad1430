"""Marketplace staff verifying the brands' IP rights: the state machine of a right's verification status,
verifying (the validity period checked against today), refusing with a reason the brand reads, and the
brand sending a refused right back for verification.

A right is added pending (`rights.ip_right_create`). A member of a staff group holding
`brands.verify_ipright` (the moderation leads, by migration) verifies it against the office's register and
its documents, or refuses it with a reason. The brand's owners are e-mailed once the decision commits; the
portal shows the reason and how to resubmit: correcting a registration detail (`rights.ip_right_update`)
or adding a document (`rights.ip_right_add_document`) sends a refused right back to pending.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from brands.choices import IPRightStatus
from brands.models import IPRight
from brands.services.common import required
from brands.services.program import program_recipients
from core.accounts.models import User
from core.mail import mail_on_commit
from core.transitions import StateMachine

R = IPRightStatus

#: action → verification statuses it may start from.
RIGHT_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "verify": (R.PENDING,),
    "refuse": (R.PENDING,),
    "resubmit": (R.REJECTED,),
}

RIGHTS = StateMachine(
    model=IPRight,
    choices=IPRightStatus,
    allowed_from=RIGHT_ALLOWED_FROM,
    audit_prefix="ip_right",
    refusal="{noun} cannot be {verb}: it is {status}, and only a right that is {allowed} can.",
    related=("brand",),
)


def _mail_owners_on_commit(right: IPRight, *, subject: str, paragraphs: list[str]) -> None:
    """E-mail the brand's active owners about one of its rights once the decision commits."""
    recipients = program_recipients(right.brand_id)
    if not recipients:
        return
    url = settings.MARKETSAFE["PORTAL_URL"].rstrip("/") + reverse(
        "brands:right_detail", kwargs={"brand_slug": right.brand.slug, "pk": right.pk}
    )
    body = "Hello,\n\n" + "\n\n".join(paragraphs) + f"\n\nThe right's page: {url}\n\nMarketSafe\n"
    mail_on_commit(subject=f"MarketSafe: {subject}", body=body, recipients=recipients)


@transaction.atomic
def ip_right_verify(*, right_id: int, actor: User, note: str = "") -> IPRight:
    """Verify a pending right; a right whose validity has ended (or not begun) cannot be verified."""
    right = RIGHTS.lock(right_id)
    RIGHTS.check(right, "verify", verb="verified")
    today = timezone.localdate()
    if right.retired_at is not None:
        raise ValidationError(f"{right} is retired; a retired right is not verified.")
    if right.valid_until is not None and right.valid_until < today:
        raise ValidationError(
            {
                "valid_until": f"{right} cannot be verified: its validity ended on"
                f" {date_format(right.valid_until, 'DATE_FORMAT')}. Refuse it and ask the brand for the renewal."
            }
        )
    if right.valid_from is not None and right.valid_from > today:
        raise ValidationError(
            {
                "valid_from": f"{right} cannot be verified yet: its validity begins on"
                f" {date_format(right.valid_from, 'DATE_FORMAT')}."
            }
        )
    RIGHTS.move(
        right,
        "verify",
        R.VERIFIED,
        actor=actor,
        reason=note.strip(),
        verb="verified",
        verified_at=timezone.now(),
        verified_by=actor,
        decision_reason="",
    )
    _mail_owners_on_commit(
        right,
        subject=f"{right.name} is verified",
        paragraphs=[f"Marketplace staff verified your IP right {right}. New notices can rely on it."],
    )
    return right


@transaction.atomic
def ip_right_refuse(*, right_id: int, actor: User, reason: str) -> IPRight:
    """Refuse to verify a pending right, with the reason the brand reads on the right's page."""
    reason = required(reason, "reason", "Give the brand the reason why the right cannot be verified.")
    right = RIGHTS.lock(right_id)
    RIGHTS.move(
        right,
        "refuse",
        R.REJECTED,
        actor=actor,
        reason=reason,
        verb="refused",
        verified_at=None,
        verified_by=None,
        decision_reason=reason,
    )
    _mail_owners_on_commit(
        right,
        subject=f"{right.name} could not be verified",
        paragraphs=[
            f"Marketplace staff could not verify your IP right {right}, for this reason:",
            reason,
            "To send it for verification again, correct its registration details or add the missing document"
            " on the right's page.",
        ],
    )
    return right


def ip_right_resubmit(*, right: IPRight, actor: User, why: str) -> None:
    """Send a refused right (locked by the caller) back to pending: the brand changed what was refused."""
    RIGHTS.move(right, "resubmit", R.PENDING, actor=actor, reason=why, verb="resubmitted")
