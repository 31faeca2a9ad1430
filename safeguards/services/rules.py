"""Saving a rule: compiled and type-checked first, then stored with a new immutable version."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from core.audit.services import audit_record
from safeguards.expressions import ExpressionError, compile_expression
from safeguards.models import Rule, RuleVersion

#: Who may write rules (given to the Moderation leads group by migration).
WRITE_PERMISSION = "safeguards.change_rule"


@transaction.atomic
def rule_save(
    *,
    actor: Any,
    name: str,
    expression: str,
    action: str,
    mode: str,
    enabled: bool = True,
    reason: str,
    rule_id: int | None = None,
) -> Rule:
    """Create or change a rule and store the new state as its next version (hits name the version)."""
    if not actor.has_perm(WRITE_PERMISSION) or not actor.has_perm("safeguards.add_rule"):
        raise PermissionDenied("Only moderation leads write risk rules.")
    try:
        compile_expression(expression)
    except ExpressionError as exc:
        raise ValidationError({"expression": str(exc)}) from None
    rule = Rule.objects.select_for_update().get(pk=rule_id) if rule_id else Rule()
    before = rule.current_version_id
    rule.name, rule.expression, rule.action, rule.mode = name, expression, action, mode
    rule.enabled, rule.reason = enabled, reason
    rule.full_clean(exclude=["current_version"])
    rule.save()
    number = (RuleVersion.objects.filter(rule=rule).aggregate(n=Max("number"))["n"] or 0) + 1
    version = RuleVersion.objects.create(
        rule=rule,
        number=number,
        name=name,
        expression=expression,
        action=action,
        mode=mode,
        enabled=enabled,
        reason=reason,
        created_by=actor,
    )
    rule.current_version = version
    rule.save(update_fields=["current_version"])
    audit_record(
        action="rule.save",
        target=rule,
        actor=actor,
        to_state=mode,
        data={"version": number, "previous_version_id": before, "expression": expression, "action": action},
    )
    return rule
