"""The demo set has the safeguards: a rule in each mode, hits, a finished backtest and an audit round."""

from io import StringIO

import pytest
from django.core.management import call_command

from safeguards.models import AuditItem, AuditRound, Backtest, Rule, RuleHit


@pytest.mark.django_db
def test_seed_demo_loads_rules_hits_a_backtest_and_an_audit_round():
    call_command("seed_demo", stdout=StringIO())
    assert set(Rule.objects.values_list("mode", flat=True)) == {"draft", "background", "live"}
    assert RuleHit.objects.exists()
    backtest = Backtest.objects.get()
    assert backtest.state == "done" and backtest.items_done == backtest.items_total > 0
    audit_round = AuditRound.objects.get()
    assert AuditItem.objects.filter(round=audit_round).exclude(state="pending").exists()
    counts = (RuleHit.objects.count(), AuditItem.objects.exclude(state="pending").count())
    call_command("seed_demo", stdout=StringIO())
    assert (RuleHit.objects.count(), AuditItem.objects.exclude(state="pending").count()) == counts
