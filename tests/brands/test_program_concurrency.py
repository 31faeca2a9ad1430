"""Decisions on one application at the same moment, each on its own connection: the row lock makes one
win and the other see the decided application and refuse by its status."""

import pytest

from brands.choices import ApplicationStatus
from brands.models import ProgramMembership
from brands.services import applications
from core.audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from tests.brands.test_program import DETAILS
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_approve_and_reject_at_once_decide_the_application_once(brand, owner, right, moderator, lead):
    application = applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )

    outcomes = run_together(
        lambda: applications.application_approve(application_id=application.pk, actor=moderator),
        lambda: applications.application_reject(application_id=application.pk, actor=lead, reason="No."),
    )

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, TransitionNotAllowed)
    application.refresh_from_db()
    assert "it is " + str(ApplicationStatus(application.status).label).lower() in error.message
    decisions = AuditEvent.objects.filter(action__in=["application.approve", "application.reject"])
    assert decisions.count() == 1
    approved = application.status == ApplicationStatus.APPROVED
    assert ProgramMembership.objects.filter(brand=brand).count() == (1 if approved else 0)
