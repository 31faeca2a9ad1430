"""A brand's stay-down policy (`StayDownPolicy`), changed by its owners on the portal; audited."""

from typing import Any

from django.db import transaction

from core.audit.services import audit_record
from detection.models import StayDownPolicy

#: The fields a brand sets, in the order the audit event lists them.
POLICY_FIELDS = ("auto_file", "auto_file_min_score", "list_weak")


@transaction.atomic
def policy_update(
    *, brand_id: int, actor: Any, auto_file: bool, auto_file_min_score: float, list_weak: bool
) -> StayDownPolicy:
    """Set the brand's policy (made on its first change); the audit event holds the values before and after."""
    policy, _ = StayDownPolicy.objects.select_for_update().get_or_create(brand_id=brand_id)
    before = {name: getattr(policy, name) for name in POLICY_FIELDS}
    policy.auto_file, policy.auto_file_min_score, policy.list_weak = auto_file, auto_file_min_score, list_weak
    policy.updated_by = actor
    policy.full_clean(exclude=["brand", "updated_by"])  # the score's range, whoever calls (ValidationError)
    after = {name: getattr(policy, name) for name in POLICY_FIELDS}
    if after == before:
        return policy
    policy.save()
    audit_record(
        action="policy.update",
        target=policy,
        actor=actor,
        brand_id=brand_id,
        data={"before": before, "after": after},
    )
    return policy
