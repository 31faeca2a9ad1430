"""Decisions on one application at the same moment, each on its own connection: the row lock makes one
win and the other see the decided application and refuse by its status."""

import pytest
from django.core.exceptions import ValidationError

from brands import services
from brands.choices import ApplicationStatus
from brands.models import ProgramMembership
from core.audit.models import AuditEvent
from tests.brands.test_program import DETAILS
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_approve_and_reject_at_once_decide_the_application_once(brand, owner, right, moderator, lead):
    application = services.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )

    outcomes = run_together(
        lambda: services.application_approve(application_id=application.pk, actor=moderator),
        lambda: services.application_reject(application_id=application.pk, actor=lead, reason="No."),
    )

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, ValidationError)
    application.refresh_from_db()
    assert "it is " + str(ApplicationStatus(application.status).label) in error.messages[0]
    decisions = AuditEvent.objects.filter(action__in=["application.approve", "application.reject"])
    assert decisions.count() == 1
    approved = application.status == ApplicationStatus.APPROVED
    assert ProgramMembership.objects.filter(brand=brand).count() == (1 if approved else 0)
