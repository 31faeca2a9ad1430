"""Issue 13 point 2: the default repeat-infringer policy (installed by the demo, documented in the README),
and a moderation lead (by the group the migrations made) adding a policy in the admin instead of a 403."""

import pytest
from django.urls import reverse

from core.audit.models import AuditEvent
from listings import penalties
from listings.models import PenaltyPolicy
from marketsafe.management.commands import seed_demo
from tests.cases.test_staff_groups import staff_groups, staff_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_the_default_policy_is_installed_once(admin_user):
    policy = penalties.penalty_policy_install_default(actor=admin_user)
    assert policy.is_active and policy.strike_lifetime_days == 365
    assert dict(policy.thresholds.values_list("action", "strikes")) == {"warn": 1, "restrict": 2, "suspend": 3}
    assert AuditEvent.objects.filter(action="penalty_policy.create", target_id=policy.pk).exists()
    assert penalties.penalty_policy_install_default(actor=admin_user) is None
    assert PenaltyPolicy.objects.count() == 1


def test_a_moderation_lead_adds_a_policy_in_the_admin(client):
    client.force_login(staff_in(seed_demo.MODERATION_LEADS, "leo"))
    add = reverse("admin:listings_penaltypolicy_add")
    assert client.get(add).status_code == 200
    data = {
        "name": "Marketplace ladder",
        "strike_lifetime_days": "180",
        "is_active": "on",
        "thresholds-TOTAL_FORMS": "2",
        "thresholds-INITIAL_FORMS": "0",
        "thresholds-MIN_NUM_FORMS": "0",
        "thresholds-MAX_NUM_FORMS": "1000",
        "thresholds-0-action": "warn",
        "thresholds-0-strikes": "1",
        "thresholds-1-action": "suspend",
        "thresholds-1-strikes": "2",
    }
    response = client.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    policy = PenaltyPolicy.objects.get(name="Marketplace ladder")
    assert dict(policy.thresholds.values_list("action", "strikes")) == {"warn": 1, "suspend": 2}


def test_a_moderator_may_not_add_a_policy(client):
    client.force_login(staff_in(seed_demo.MODERATORS, "mona"))
    assert client.get(reverse("admin:listings_penaltypolicy_add")).status_code == 403
