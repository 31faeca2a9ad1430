"""Applying to the MarketSafe program, and the association's review of an application.

The brand's owner fills in one open application at a time (a draft, or one sent back with a request for
information), with the verified rights it covers and its documents, and submits it with an attestation.
A reviewer then starts the review, asks for information, approves (the brand becomes a member until its
renewal date; a current membership is ended and replaced) or rejects with a reason. Each decision is a
move of `program.APPLICATIONS` under the application's row lock, so two reviewers deciding at once decide
it once; the brand is told by e-mail once the decision commits.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from brands.choices import APPLICATION_OPEN_STATUSES
from brands.models import (
    ApplicationDocument,
    Brand,
    InformationRequest,
    IPRight,
    ProgramApplication,
    ProgramMembership,
)
from brands.services.common import required, stored_document
from brands.services.program import APPLICATIONS, A, M, mail_on_commit, memberships_end_current, program_rules
from core.accounts.models import User
from core.audit.services import audit_record
from core.uploads import CheckedUpload

#: The application's details an owner fills in (the rights and documents are passed separately).
APPLICATION_FIELDS = (
    "company_name",
    "association_member_number",
    "contact_name",
    "contact_email",
    "enforcement_statement",
)


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
        APPLICATIONS.check(application, "edit", verb="changed")
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
        ApplicationDocument.objects.create(application=application, **stored_document(upload, uploaded_by=actor))
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
    APPLICATIONS.check(application, "submit", verb="submitted")
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
    if open_request is not None:
        open_request.responded_by = actor
        open_request.responded_at = now
        open_request.save(update_fields=["responded_by", "responded_at"])
    APPLICATIONS.move(
        application,
        "submit",
        A.SUBMITTED,
        actor=actor,
        check=False,  # checked above, before the details
        data={"information_request_id": open_request.pk} if open_request else None,
        submitted_at=application.submitted_at or now,
        attested_by=actor,
        attested_at=now,
    )
    return application


def _decide(*, application_id: int, action: str, to: str, verb: str, actor: User, reason: str) -> ProgramApplication:
    """Lock the application and move it to `to` as a decision (who, when, why); the caller's transaction
    holds the lock."""
    application = APPLICATIONS.lock(application_id)
    APPLICATIONS.move(
        application,
        action,
        to,
        actor=actor,
        reason=reason,
        verb=verb,
        decided_at=timezone.now(),
        decided_by=actor,
        decision_reason=reason,
    )
    return application


@transaction.atomic
def application_start_review(*, application_id: int, actor: User) -> ProgramApplication:
    application = APPLICATIONS.lock(application_id)
    APPLICATIONS.move(application, "start_review", A.UNDER_REVIEW, actor=actor, verb="taken into review")
    return application


@transaction.atomic
def application_request_info(*, application_id: int, actor: User, message: str) -> InformationRequest:
    message = required(message, "message", "Say what the brand should add or explain.")
    application = APPLICATIONS.lock(application_id)
    APPLICATIONS.move(
        application, "request_info", A.INFO_REQUESTED, actor=actor, reason=message, verb="sent back for information"
    )
    request = InformationRequest.objects.create(application=application, message=message, requested_by=actor)
    mail_on_commit(
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


@transaction.atomic
def application_approve(
    *, application_id: int, actor: User, renews_on: date | None = None, reason: str = ""
) -> ProgramMembership:
    """Approve: the brand becomes a member until `renews_on` (a term from today by default); a current
    membership (a renewal) is ended and replaced by the new one."""
    now = timezone.now()
    today = timezone.localdate(now)
    renews_on = renews_on or today + program_rules()["PROGRAM_MEMBERSHIP_TERM"]
    if renews_on <= today:
        raise ValidationError({"renews_on": f"The renewal date must be after today ({today:%Y-%m-%d})."})
    application = _decide(
        application_id=application_id,
        action="approve",
        to=A.APPROVED,
        verb="approved",
        actor=actor,
        reason=reason.strip(),
    )
    memberships_end_current(brand=application.brand, actor=actor, reason="Renewed by a new approved application.")
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
    mail_on_commit(
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
    reason = required(reason, "reason", "Give the brand the reason for the rejection.")
    application = _decide(
        application_id=application_id, action="reject", to=A.REJECTED, verb="rejected", actor=actor, reason=reason
    )
    mail_on_commit(
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
