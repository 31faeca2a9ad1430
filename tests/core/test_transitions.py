"""The transition helper (`core.transitions.StateMachine`) and the one error base (`core.errors`), with how
each edge shows a refusal: on a page's form, in an admin message, in the API's error shape."""

import pytest
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from brands.choices import ApplicationStatus as A
from brands.models import ProgramApplication
from core.api.exceptions import api_exception_handler
from core.audit.models import AuditEvent
from core.errors import Conflict, DomainError, TransitionNotAllowed
from core.outbox import publish, subscribe
from core.transitions import StateMachine, labels
from core.views import add_service_error, refusal_text
from tests import factories

pytestmark = pytest.mark.django_db

TOPIC = "tests.application_moved"
heard: list[tuple[list, dict]] = []
subscribe(TOPIC, lambda objects, **details: heard.append((list(objects), details)))

MACHINE = StateMachine(
    model=ProgramApplication,
    choices=A,
    allowed_from={"start_review": (A.SUBMITTED,), "approve": (A.SUBMITTED, A.UNDER_REVIEW)},
    audit_prefix="application",
    topic=TOPIC,
    related=("brand",),
)


def test_labels_follow_the_choices_order_in_lower_case():
    assert labels([A.UNDER_REVIEW, A.SUBMITTED], A) == "submitted or under review"
    assert labels([A.DRAFT], A) == "draft"


def test_a_move_saves_audits_and_publishes_in_the_callers_transaction():
    application = factories.ProgramApplicationFactory(status=A.SUBMITTED, submitted_at=timezone.now())
    actor = factories.UserFactory()
    heard.clear()

    with transaction.atomic():
        locked = MACHINE.lock(application.pk)
        old = MACHINE.move(locked, "start_review", A.UNDER_REVIEW, actor=actor, reason="looks complete")

    assert old == A.SUBMITTED
    application.refresh_from_db()
    assert application.status == A.UNDER_REVIEW
    event = AuditEvent.objects.get(
        target_type=ContentType.objects.get_for_model(ProgramApplication), target_id=application.pk
    )
    assert (event.action, event.from_state, event.to_state) == ("application.start_review", "submitted", "under_review")
    assert (event.actor, event.reason, event.brand_id, event.automated) == (
        actor,
        "looks complete",
        application.brand_id,
        False,
    )
    assert heard == [([locked], {"from_status": A.SUBMITTED})]


def test_a_refused_move_names_both_statuses_and_changes_nothing():
    application = factories.ProgramApplicationFactory(status=A.DRAFT)
    heard.clear()

    with pytest.raises(TransitionNotAllowed) as refused:
        MACHINE.move(application, "approve", A.APPROVED, actor=None, verb="approved")

    assert str(refused.value) == (
        f"{application} cannot be approved: it is draft, and only when it is submitted or under review can it be."
    )
    assert isinstance(refused.value, Conflict) and isinstance(refused.value, DomainError)
    application.refresh_from_db()
    assert application.status == A.DRAFT
    assert not AuditEvent.objects.filter(target_id=application.pk, action__startswith="application.").exists()
    assert heard == []


def test_a_judged_move_skips_the_check_and_sets_extra_fields():
    application = factories.ProgramApplicationFactory(status=A.DRAFT)
    now = timezone.now()
    MACHINE.move(
        application,
        "approve",
        A.APPROVED,
        automated=True,
        check=False,
        submitted_at=now,
        decided_at=now,
        decision_reason="x",
    )
    application.refresh_from_db()
    assert (application.status, application.decision_reason, application.decided_at) == (A.APPROVED, "x", now)
    assert AuditEvent.objects.get(target_id=application.pk, action="application.approve").automated


def test_publish_without_objects_calls_nobody():
    heard.clear()
    publish(TOPIC, [])
    assert heard == []


class _Form(forms.Form):
    reason = forms.CharField(required=False)


def test_pages_show_a_refusal_next_to_its_field_or_on_top():
    form = _Form(data={})
    assert form.is_valid()
    add_service_error(form, DomainError("Give a longer reason.", field="reason"))
    add_service_error(form, TransitionNotAllowed("It was decided already."))
    assert form.errors == {"reason": ["Give a longer reason."], "__all__": ["It was decided already."]}
    assert refusal_text(DomainError("No.")) == "No."


def test_the_api_answers_a_refusal_in_its_error_shape_with_its_status():
    request = APIRequestFactory().post("/api/v1/anything/")
    conflict = api_exception_handler(TransitionNotAllowed("It is closed."), {"request": request})
    refused = api_exception_handler(DomainError("Too late.", field="due"), {"request": request})
    assert (conflict.status_code, conflict.data) == (
        409,
        {"status": 409, "code": "conflict", "detail": "It is closed."},
    )
    assert (refused.status_code, refused.data) == (
        400,
        {"status": 400, "code": "refused", "detail": "Too late.", "errors": {"due": ["Too late."]}},
    )
