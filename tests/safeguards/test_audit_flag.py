"""Issue 18, point 4: a member whose audited accuracy falls under the program's threshold is flagged to the
association like the monitored rates: the nightly check warns it (e-mail, membership note, the program
report's flagged members), and suspends it after the warning period when the audits show the shortfall with
95% confidence (the Wilson interval's upper end under the threshold)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from brands.choices import MembershipStatus
from brands.selectors import program_standing, track_records
from brands.tasks import monitor_program_memberships
from cases import services as case_services
from cases.models import CaseItem
from safeguards.models import AuditItem
from safeguards.services import audits
from tests import factories
from tests.safeguards.groups import in_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(brand, owner):
    return factories.ProgramMembershipFactory(
        brand=brand, application__contact_email="contact@acme.example", renews_on=timezone.localdate() + timedelta(200)
    )


@pytest.fixture
def audited(file_case, rules_moderator, auditor, rules_lead):
    """audited(n, founded): n reports of the brand accepted this week (its monitored rates are perfect), all
    drawn for audit; the auditor agrees on `founded` of them and a lead rules the others unfounded."""

    def make(n: int, founded: int) -> None:
        items = list(CaseItem.objects.filter(case=file_case(n)).order_by("pk"))
        for item in items:
            case_services.item_accept(item_id=item.pk, actor=rules_moderator)
        today = timezone.localdate()
        audits.audit_round_draw(week=today - timedelta(days=today.weekday()), seed="flag", per_stratum=n)
        for k, audit in enumerate(AuditItem.objects.order_by("pk")):
            agree = k < founded
            audits.audit_item_decide(audit_id=audit.pk, auditor=auditor, verdict="accept" if agree else "reject")
            if not agree:
                audits.audit_item_resolve(audit_id=audit.pk, lead=rules_lead, verdict="reject")

    return make


def night(days: int):
    when = timezone.localtime() + timedelta(days=days)
    return time_machine.travel(when.replace(hour=2, minute=15), tick=False)


def test_the_track_record_carries_the_audited_accuracy_with_its_wilson_interval(member, audited):
    audited(20, founded=16)
    record = track_records(brand_ids=[member.brand_id])[member.brand_id]
    assert (record.audited.audited, record.audited.founded) == (20, 16)
    assert record.audited.low == pytest.approx(0.5840, abs=5e-5) and record.audited.high == pytest.approx(
        0.9193, abs=5e-5
    )
    standing = program_standing(record)
    # 80% is under 90%, but the interval reaches 90%: flagged (warned), not yet a missed threshold.
    assert standing.level == "near"
    assert standing.note == (
        "audited accuracy 80.0% (16 of 20 audited reports founded, 95% interval 58.4% to 91.9%; at least 90.0%)"
    )


def test_a_member_under_the_threshold_is_warned_and_shown_on_the_program_report(
    member, audited, client, django_capture_on_commit_callbacks
):
    reviewer = in_group("rosa", "Association reviewers")
    reviewer.email = "Rosa@Association.example"
    reviewer.save(update_fields=["email"])
    audited(20, founded=16)
    with night(1), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["warned"] == 1
    member.refresh_from_db()
    assert member.status == MembershipStatus.WARNED and member.accuracy_note.startswith("audited accuracy 80.0%")
    # The brand's warning, as for the monitored rates, and the same flag to the association's reviewers.
    brand_mail, association_mail = mail.outbox
    assert brand_mail.subject == "MarketSafe: accuracy warning" and "audited accuracy 80.0%" in brand_mail.body
    assert association_mail.to == ["rosa@association.example"]
    assert association_mail.subject == f"MarketSafe: {member.brand} flagged by the nightly check"
    assert "audited accuracy 80.0%" in association_mail.body
    assert f"/admin/brands/programmembership/{member.pk}/change/" in association_mail.body
    client.force_login(factories.UserFactory(username="association", is_staff=True, is_superuser=True))
    report = client.get(reverse("admin:program_report"))
    assert report.status_code == 200
    assert "Members flagged by the nightly check: 1" in report.text
    assert member.brand.name in report.text and "audited accuracy 80.0%" in report.text
    page = client.get(reverse("admin:brands_programmembership_change", args=[member.pk]))
    assert "16 of 20 audited reports founded (80.0%, 95% interval 58.4% to 91.9%)" in page.text


def test_a_confident_shortfall_suspends_after_the_warning_period(member, audited, django_capture_on_commit_callbacks):
    audited(20, founded=12)  # 60%, interval 38.7% to 78.1%: under 90% with 95% confidence
    assert program_standing(track_records(brand_ids=[member.brand_id])[member.brand_id]).level == "below"
    with night(1), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["warned"] == 1
    with night(31), django_capture_on_commit_callbacks(execute=True):
        assert monitor_program_memberships()["suspended"] == 1
    member.refresh_from_db()
    assert member.status == MembershipStatus.SUSPENDED
    # Nobody at the association has an address here: the brand's two e-mails only.
    assert [m.subject for m in mail.outbox] == [
        "MarketSafe: accuracy warning",
        "MarketSafe: your membership is suspended",
    ]


def test_fewer_audits_than_the_minimum_sample_are_not_judged(member, audited, client, rules_lead):
    audited(19, founded=10)
    record = track_records(brand_ids=[member.brand_id])[member.brand_id]
    assert record.audited.audited == 19 and program_standing(record).level == "ok"
    with night(1):
        assert monitor_program_memberships()["warned"] == 0
    (row,) = audits.audit_report().members
    assert not row.below_threshold
    client.force_login(rules_lead)
    assert "Not judged (fewer than 20 audits)" in client.get(reverse("admin:audit_report")).text
