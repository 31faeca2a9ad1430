"""The MarketSafe program's services against the real database: the application cycle, the association's
decisions (locked, audited, e-mailed on commit, illegal transitions refused by name), the lane switch, the
track record, and the nightly accuracy check with a frozen clock."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from brands.choices import ApplicationStatus, Lane, MembershipStatus, Role
from brands.models import ProgramApplication, ProgramMembership
from brands.selectors import brand_lane, program_standing, track_records
from brands.services import applications, program
from brands.tasks import monitor_program_memberships
from cases.choices import ItemStatus, RejectionCode
from cases.models import CaseItem
from core.audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from core.locks import lock_key
from core.uploads import check_upload
from tests import factories
from tests.tenancy_cases.brands import PDF, RewindingUpload
from tests.workers import running_worker, wait_until

pytestmark = pytest.mark.django_db

DETAILS = {
    "company_name": "Acme Leather Ltd",
    "association_member_number": "IACC-7",
    "contact_name": "Ada Owner",
    "contact_email": "contact@acme.example",
    "enforcement_statement": "Every listing is checked against our catalogue and test purchases.",
}


@pytest.fixture
def reviewer():
    return factories.UserFactory(username="rosa", is_staff=True)


@pytest.fixture
def submitted(brand, owner, right, django_capture_on_commit_callbacks) -> ProgramApplication:
    with django_capture_on_commit_callbacks(execute=True):
        return applications.application_save(
            brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
        )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- the application cycle ----------------------------------------------------------------------


def test_a_draft_is_saved_without_attestation_and_submitted_with_it(brand, owner, right):
    upload = check_upload(RewindingUpload("membership.pdf", PDF))
    draft = applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[right], documents=[upload])
    assert draft.status == ApplicationStatus.DRAFT
    assert draft.documents.get().original_name == "membership.pdf"
    with pytest.raises(ValidationError) as refused:
        applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True)
    assert refused.value.message_dict == {"attest": ["Confirm the attestation to submit the application."]}
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT  # nothing half-saved

    application = applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )
    assert application.pk == draft.pk
    assert (application.status, application.attested_by) == (ApplicationStatus.SUBMITTED, owner)
    assert [e.to_state for e in events("application.submit")] == [ApplicationStatus.SUBMITTED]


def test_a_submission_needs_a_verified_right(brand, owner):
    pending = factories.IPRightFactory(brand=brand, status="pending", verified_at=None)
    with pytest.raises(ValidationError) as refused:
        applications.application_save(
            brand=brand, actor=owner, data=DETAILS, rights=[pending], submit=True, attest=True
        )
    assert "is not a verified, current right" in str(refused.value.message_dict["rights"])
    with pytest.raises(ValidationError) as refused:
        applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[], submit=True, attest=True)
    assert refused.value.message_dict["rights"] == ["Choose at least one verified IP right the membership covers."]
    assert not ProgramApplication.objects.exists()


def test_another_brands_right_cannot_be_covered(brand, owner, other_brand):
    foreign = factories.IPRightFactory(brand=other_brand)
    with pytest.raises(ValidationError):
        applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[foreign])


def test_the_full_cycle_with_a_request_for_information(
    submitted, brand, owner, member_of, reviewer, right, django_capture_on_commit_callbacks
):
    second_owner = member_of(Role.OWNER)  # every active owner hears about decisions
    applications.application_start_review(application_id=submitted.pk, actor=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        applications.application_request_info(
            application_id=submitted.pk, actor=reviewer, message="Send your membership certificate."
        )
    [asked] = mail.outbox
    assert "Send your membership certificate." in asked.body
    assert sorted(asked.to) == sorted(["contact@acme.example", owner.email.lower(), second_owner.email.lower()])
    assert "/b/acme/program/" in asked.body

    with pytest.raises(TransitionNotAllowed) as refused:
        applications.application_approve(application_id=submitted.pk, actor=reviewer)
    assert refused.value.message == (
        "This application cannot be approved: it is information requested, and only an application that is"
        " submitted or under review can."
    )
    with pytest.raises(ValidationError) as refused:
        applications.application_save(brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True)
    assert refused.value.message_dict == {"response": ["Answer the association's request before resubmitting."]}

    applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], response="Attached.", submit=True, attest=True
    )
    request = submitted.information_requests.get()
    assert (request.response, request.responded_by) == ("Attached.", owner)
    with django_capture_on_commit_callbacks(execute=True):
        membership = applications.application_approve(application_id=submitted.pk, actor=reviewer, reason="Welcome.")
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decided_by) == (ApplicationStatus.APPROVED, reviewer)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.renews_on == timezone.localdate() + timedelta(days=365)
    assert "approved" in mail.outbox[-1].subject and "Welcome." in mail.outbox[-1].body
    assert [e.action for e in AuditEvent.objects.filter(actor=reviewer).order_by("pk")] == [
        "application.start_review",
        "application.request_info",
        "application.approve",
        "membership.start",
    ]


def test_a_rejection_needs_a_reason_and_is_mailed(submitted, reviewer, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError):
        applications.application_reject(application_id=submitted.pk, actor=reviewer, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        applications.application_reject(application_id=submitted.pk, actor=reviewer, reason="Rights not yours.")
    assert mail.outbox[-1].subject == "MarketSafe: your application is rejected"
    with pytest.raises(TransitionNotAllowed, match="it is rejected"):
        applications.application_reject(application_id=submitted.pk, actor=reviewer, reason="Again.")
    assert len(events("application.reject")) == 1


def test_a_rolled_back_decision_sends_nothing(submitted, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        applications.application_approve(
            application_id=submitted.pk, actor=reviewer, renews_on=timezone.localdate() - timedelta(days=1)
        )
    assert mail.outbox == []
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.SUBMITTED


def test_approving_a_renewal_replaces_the_current_membership(brand, owner, right, reviewer):
    old = factories.ProgramMembershipFactory(brand=brand, renews_on=timezone.localdate() + timedelta(days=20))
    application = applications.application_save(
        brand=brand, actor=owner, data=DETAILS, rights=[right], submit=True, attest=True
    )
    new = applications.application_approve(application_id=application.pk, actor=reviewer)
    old.refresh_from_db()
    assert old.status == MembershipStatus.ENDED
    assert ProgramMembership.objects.filter(brand=brand).active().get() == new


# --- the lane switch --------------------------------------------------------------------------------


def test_the_lane_follows_the_membership_and_open_cases_keep_theirs(
    submitted, brand, reviewer, file_case, django_capture_on_commit_callbacks
):
    before = file_case()
    assert before.lane == Lane.STANDARD
    membership = applications.application_approve(application_id=submitted.pk, actor=reviewer)
    expedited = file_case(evidence=[])  # no evidence: optional in the expedited lane for counterfeits
    assert expedited.lane == Lane.EXPEDITED
    assert set(expedited.items.values_list("lane", flat=True)) == {Lane.EXPEDITED}
    assert expedited.items.get().sla_due_at - expedited.submitted_at == timedelta(hours=24)

    program.membership_suspend(membership_id=membership.pk, actor=reviewer, reason="Too many rejections.")
    with pytest.raises(ValidationError, match="Evidence is required"):
        file_case(evidence=[])
    after = file_case()
    assert after.lane == Lane.STANDARD
    assert after.items.get().sla_due_at - after.submitted_at == timedelta(hours=72)
    # Cases filed earlier keep the lane they were filed in.
    assert CaseItem.objects.get(case=expedited).lane == Lane.EXPEDITED
    assert CaseItem.objects.get(case=before).lane == Lane.STANDARD

    program.membership_reinstate(membership_id=membership.pk, actor=reviewer)
    assert file_case(evidence=[]).lane == Lane.EXPEDITED
    with pytest.raises(TransitionNotAllowed, match="only a membership that is suspended can"):
        program.membership_reinstate(membership_id=membership.pk, actor=reviewer)


# --- the track record ---------------------------------------------------------------------------------


def decide(items, status: str, *, at=None) -> None:
    """Mark items decided (accepted or rejected) at `at`: the figures read only status and decision time."""
    extra = {"rejection_code": RejectionCode.INSUFFICIENT_EVIDENCE} if status == ItemStatus.REJECTED else {}
    CaseItem.objects.filter(pk__in=[item.pk for item in items]).update(
        status=status, decided_at=at or timezone.now(), **extra
    )


def test_the_track_record_counts_the_standard_lane_per_reason(brand, file_case):
    counterfeit = list(file_case(4).items.all())
    copyright_items = list(file_case(2, reason_code="copyright").items.all())
    decide(counterfeit[:3], ItemStatus.ACCEPTED)
    decide(counterfeit[3:], ItemStatus.REJECTED)
    decide(copyright_items, ItemStatus.REJECTED)
    CaseItem.objects.filter(pk=copyright_items[0].pk).update(lane=Lane.EXPEDITED)

    record = track_records(brand_ids=[brand.pk], lane=Lane.STANDARD)[brand.pk]
    assert (record.overall.filed, record.overall.decided, record.overall.accepted) == (5, 5, 3)
    by_reason = {f.reason_code: (f.decided, f.acceptance_rate) for f in record.by_reason}
    assert by_reason == {"copyright": (1, 0.0), "counterfeit": (4, 0.75)}
    everything = track_records(brand_ids=[brand.pk])[brand.pk]
    assert everything.overall.decided == 6


# --- the nightly check ----------------------------------------------------------------------------------


@pytest.fixture
def member(brand, owner):
    return factories.ProgramMembershipFactory(
        brand=brand,
        application__contact_email="contact@acme.example",
        renews_on=timezone.localdate() + timedelta(days=200),
    )


@pytest.fixture
def record_of(file_case):
    """record_of(accepted, rejected): that many decided counterfeit reports of the brand, decided now."""

    def make(accepted: int, rejected: int) -> None:
        items = list(file_case(accepted + rejected).items.order_by("pk"))
        decide(items[:accepted], ItemStatus.ACCEPTED)
        decide(items[accepted:], ItemStatus.REJECTED)

    return make


def night(days: int):
    """The clock `days` nights from now, at 02:15."""
    when = timezone.localtime() + timedelta(days=days)
    return time_machine.travel(when.replace(hour=2, minute=15), tick=False)


def test_a_healthy_member_is_left_alone(member, record_of):
    record_of(accepted=30, rejected=0)
    with night(1):
        assert monitor_program_memberships()["checked"] == 1
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE and member.warned_at is None


def test_a_member_near_a_threshold_is_warned_once_however_often_the_task_runs(
    member, record_of, django_capture_on_commit_callbacks
):
    record_of(accepted=23, rejected=2)  # 92%: within 3 points of 90%
    assert program_standing(track_records(brand_ids=[member.brand_id])[member.brand_id]).level == "near"
    with night(1), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["warned"] == 1
        assert monitor_program_memberships() == dict.fromkeys(
            ("checked", "warned", "recovered", "suspended", "lapsed", "reminded", "failed"), 0
        )
    with night(2), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["warned"] == 0
    member.refresh_from_db()
    assert member.status == MembershipStatus.WARNED
    assert member.accuracy_note.startswith("All reasons: acceptance rate 92.0% (at least 90.0%); Counterfeit")
    assert [m.subject for m in mail.outbox] == ["MarketSafe: accuracy warning"]
    assert len(events("membership.warn")) == 1 and events("membership.warn")[0].automated


def test_a_member_below_a_threshold_is_suspended_after_the_warning_period(
    member, record_of, django_capture_on_commit_callbacks
):
    record_of(accepted=20, rejected=5)  # 80%
    with night(1), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["warned"] == 1
    with night(30), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["suspended"] == 0  # 29 days below: still warned
    with night(31), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["suspended"] == 1
    member.refresh_from_db()
    assert member.status == MembershipStatus.SUSPENDED
    assert [m.subject for m in mail.outbox] == [
        "MarketSafe: accuracy warning",
        "MarketSafe: your membership is suspended",
    ]
    warn, suspend = events("membership.warn")[0], events("membership.suspend")[0]
    assert warn.occurred_at < suspend.occurred_at and suspend.automated
    assert ProgramMembership.objects.filter(brand=member.brand).active().count() == 0


def test_a_warned_member_who_recovers_keeps_the_lane(member, record_of, file_case):
    record_of(accepted=23, rejected=2)
    with night(1):
        monitor_program_memberships()
    decide(list(file_case(40).items.all()), ItemStatus.ACCEPTED)  # 63 of 65: 96.9%
    with night(2):
        assert monitor_program_memberships()["recovered"] == 1
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE and member.accuracy_note == ""


def test_too_few_decisions_are_not_judged(member, record_of):
    record_of(accepted=5, rejected=5)
    with night(1):
        assert monitor_program_memberships()["warned"] == 0


def test_renewal_reminders_go_out_once_each_and_the_membership_lapses_after_its_date(
    member, django_capture_on_commit_callbacks
):
    ProgramMembership.objects.filter(pk=member.pk).update(renews_on=timezone.localdate() + timedelta(days=40))
    for days in range(1, 43):
        with night(days), django_capture_on_commit_callbacks(execute=True):
            monitor_program_memberships()
            monitor_program_memberships()
    subjects = [m.subject for m in mail.outbox]
    renews = (timezone.localdate() + timedelta(days=40)).strftime("%d %B %Y")
    assert subjects == [
        f"MarketSafe: your membership renews on {renews}",
        f"MarketSafe: your membership renews on {renews}",
        "MarketSafe: your membership has lapsed",
    ]
    assert [e.data["days_left"] for e in events("membership.renewal_reminder")] == [30, 7]
    member.refresh_from_db()
    assert member.status == MembershipStatus.LAPSED
    assert member.ended_at.date() == timezone.localdate() + timedelta(days=41)
    assert ProgramMembership.objects.filter(brand=member.brand).active().count() == 0


def test_the_check_does_not_overlap_with_itself(member, record_of):
    record_of(accepted=20, rejected=5)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key("brands.tasks.monitor_program_memberships")])
        with night(1):
            assert monitor_program_memberships() is None
    finally:
        other.close()
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE


def test_the_dashboard_and_the_program_page_show_the_warning(client, member, record_of, owner, brand):
    record_of(accepted=23, rejected=2)
    with night(1):
        monitor_program_memberships()
    client.force_login(owner)
    dashboard = client.get(f"/b/{brand.slug}/dashboard/").content.decode()
    assert "MarketSafe accuracy warning" in dashboard
    assert "All reasons: acceptance rate 92.0% (at least 90.0%)" in dashboard
    assert "Accuracy warning" in client.get(f"/b/{brand.slug}/program/").content.decode()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_runs_on_a_real_worker(member, record_of):
    record_of(accepted=20, rejected=5)
    with running_worker():
        monitor_program_memberships.delay()
        warned = ProgramMembership.objects.filter(pk=member.pk, status=MembershipStatus.WARNED)
        wait_until(warned.exists, "the worker to warn the member", timeout=30)
        member.refresh_from_db()
    assert member.status == MembershipStatus.WARNED
    assert member.checked_on == timezone.localdate()
    assert len(mail.outbox) == 1  # sent once the worker's transaction committed


@pytest.mark.django_db
def test_a_membership_past_its_renewal_date_gives_no_expedited_lane_before_the_nightly_check(brand):
    """Issue 14.10: the lane is decided from the membership's dates when a case is filed."""
    membership = factories.ProgramMembershipFactory(brand=brand)
    assert brand_lane(brand) == Lane.EXPEDITED
    membership.renews_on = timezone.localdate() - timedelta(days=1)
    membership.save(update_fields=["renews_on"])  # still "active": the nightly check has not run
    assert brand_lane(brand) == Lane.STANDARD
    membership.renews_on = timezone.localdate()  # the renewal day itself still counts
    membership.save(update_fields=["renews_on"])
    assert brand_lane(brand) == Lane.EXPEDITED
    membership.started_at = timezone.now() + timedelta(days=1)  # approved to start later
    membership.save(update_fields=["started_at"])
    assert brand_lane(brand) == Lane.STANDARD
