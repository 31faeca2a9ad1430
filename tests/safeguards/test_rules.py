"""Rules as data (issue 18, point 1): expressions compiled and type-checked when saved, with errors that
name the problem; every save a new immutable version; only leads write rules."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.audit.models import AuditEvent
from safeguards.expressions import ExpressionError, compile_expression
from safeguards.models import Rule, RuleVersion
from safeguards.services.rules import rule_save


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("item.colour == 'red'", "Unknown field 'item.colour'"),
        ("lane == 'expedited'", "Unknown field 'lane'"),
        ("listing.price > 'cheap'", "Type error"),
        ("seller.status == 3", "Type error"),
        ("listing.price > ", "Syntax error"),
        ("listing.price + 1", "must be true or false"),
        ("   ", "Write an expression"),
    ],
)
def test_a_bad_expression_is_refused_with_its_problem_named(expression, named):
    with pytest.raises(ExpressionError, match=named):
        compile_expression(expression)


def test_the_fields_of_every_object_compile_and_strings_are_left_alone():
    rule = compile_expression(
        'item.lane == "expedited" and listing.price > 500.0 and seller.live_listings >= 100 '
        'and brand.is_member and case.item_count > 50 and right.age_days < 30 and listing.title =~ "item.lane"'
    )
    assert "item__lane" in rule.text
    assert '"item.lane"' in rule.text  # inside a string literal, not rewritten


@pytest.mark.django_db
def test_each_save_stores_a_new_version_and_an_audit_event(make_rule, rules_lead):
    rule = make_rule("listing.price > 100.0", mode="draft")
    changed = rule_save(
        actor=rules_lead,
        rule_id=rule.pk,
        name=rule.name,
        expression="listing.price > 200.0",
        action="force_human_review",
        mode="live",
        reason="Expensive goods",
    )
    versions = list(RuleVersion.objects.filter(rule=rule).order_by("number"))
    assert [(v.number, v.expression, v.mode) for v in versions] == [
        (1, "listing.price > 100.0", "draft"),
        (2, "listing.price > 200.0", "live"),
    ]
    assert changed.current_version == versions[1]
    assert AuditEvent.objects.filter(action="rule.save", target_id=str(rule.pk)).count() == 2


@pytest.mark.django_db
def test_a_moderator_cannot_write_rules(rules_moderator):
    with pytest.raises(PermissionDenied):
        rule_save(actor=rules_moderator, name="x", expression="true", action="flag", mode="live", reason="r")
    assert not Rule.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_bad_expression_on_its_field(rules_lead):
    with pytest.raises(ValidationError) as refused:
        rule_save(actor=rules_lead, name="x", expression="seller.rating > 3", action="flag", mode="live", reason="r")
    assert "Unknown field 'seller.rating'" in refused.value.message_dict["expression"][0]


@pytest.mark.django_db
def test_a_lead_writes_a_rule_in_the_admin_and_sees_the_fields_and_errors(client, rules_lead):
    client.force_login(rules_lead)
    add_url = reverse("admin:safeguards_rule_add")
    page = client.get(add_url)
    assert page.status_code == 200
    assert "seller.live_listings" in page.text and "right.age_days" in page.text  # the fields' help
    data = {
        "name": "Top sellers",
        "expression": "seller.live_listings > 'many'",
        "action": "force_human_review",
        "mode": "live",
        "enabled": "on",
        "reason": "Top seller: a person decides",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    refused = client.post(add_url, data)
    assert refused.status_code == 200
    assert "Type error" in refused.text
    assert not Rule.objects.exists()
    saved = client.post(add_url, data | {"expression": "seller.live_listings > 1000"})
    assert saved.status_code == 302
    rule = Rule.objects.get()
    assert rule.current_version.number == 1 and rule.current_version.created_by == rules_lead


@pytest.mark.django_db
def test_a_moderator_reads_rules_but_cannot_add_them(client, rules_moderator, make_rule):
    make_rule("true")
    client.force_login(rules_moderator)
    assert client.get(reverse("admin:safeguards_rule_changelist")).status_code == 200
    assert client.get(reverse("admin:safeguards_rule_add")).status_code == 403
