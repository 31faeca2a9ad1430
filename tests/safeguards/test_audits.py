"""Quality audits (issue 18, point 4): a reproducible stratified sample, blind re-decisions by another person,
disagreements to a lead, and the report's figures and CSV."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import CaseItem
from core.errors import Conflict
from safeguards.models import AuditItem
from safeguards.services import audits
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_week(file_case, rules_moderator, other_brand):
    """Twelve decisions by one moderator this week: 8 accepted, 4 rejected (two strata of the same brand)."""
    items = list(CaseItem.objects.filter(case=file_case(8)).order_by("pk"))
    items += list(CaseItem.objects.filter(case=file_case(4, reason_code="copyright")).order_by("pk"))
    for item in items[:8]:
        case_services.item_accept(item_id=item.pk, actor=rules_moderator)
    for item in items[8:]:
        case_services.item_reject(item_id=item.pk, actor=rules_moderator, code="wrong_reason")
    return items


def _week():
    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


def test_the_sample_is_stratified_and_anyone_redraws_it_from_the_seed(decided_week):
    first = audits.audit_sample(week=_week(), seed="s1", per_stratum=3)
    assert audits.audit_sample(week=_week(), seed="s1", per_stratum=3) == first
    strata = {stratum for stratum, *_ in first}
    assert len(strata) == 2 and len(first) == 6  # 3 of each stratum
    # The same rule written out: the lowest sha256("seed:id") in each stratum.
    counterfeit = sorted(i.pk for i in decided_week[:8])
    expected = sorted(counterfeit, key=lambda pk: audits.rank("s1", pk))[:3]
    assert [pk for stratum, pk, *_ in first if stratum.endswith("/counterfeit")] == expected
    # Another seed draws another sample.
    assert audits.audit_sample(week=_week(), seed="s2", per_stratum=3) != first


def test_a_round_is_drawn_once_per_week_and_leaves_the_items_alone(decided_week):
    before = list(CaseItem.objects.order_by("pk").values_list("status", "sla_due_at", "status_changed_at"))
    audit_round = audits.audit_round_draw(week=_week(), seed="s1", per_stratum=2)
    assert audits.audit_round_draw(week=_week(), seed="other").pk == audit_round.pk
    assert AuditItem.objects.filter(round=audit_round).count() == 4
    after = list(CaseItem.objects.order_by("pk").values_list("status", "sla_due_at", "status_changed_at"))
    assert before == after


def test_blind_re_decision_by_another_person_and_disagreement_to_a_lead(
    decided_week, auditor, rules_moderator, rules_lead
):
    audits.audit_round_draw(week=_week(), seed="s1", per_stratum=2)
    agreed, disagreed = AuditItem.objects.filter(first_verdict="accept").order_by("pk")[:2]
    rules_moderator.groups.add(auditor.groups.get())  # the moderator who decided also audits
    with pytest.raises(Conflict, match="never audits their own decision"):
        audits.audit_item_decide(audit_id=agreed.pk, auditor=rules_moderator, verdict="accept")
    assert audits.audit_item_decide(audit_id=agreed.pk, auditor=auditor, verdict="accept").state == "agreed"
    assert audits.audit_item_decide(audit_id=disagreed.pk, auditor=auditor, verdict="reject").state == "disagreed"
    with pytest.raises(Conflict, match="already"):
        audits.audit_item_decide(audit_id=disagreed.pk, auditor=auditor, verdict="accept")
    resolved = audits.audit_item_resolve(audit_id=disagreed.pk, lead=rules_lead, verdict="reject")
    assert (resolved.state, resolved.right_verdict) == ("resolved", "reject")


def test_the_auditor_page_is_blind_and_records_the_verdict(client, decided_week, auditor, rules_moderator):
    audits.audit_round_draw(week=_week(), seed="s1", per_stratum=1)
    audit = AuditItem.objects.order_by("pk").first()
    client.force_login(auditor)
    url = reverse("admin:safeguards_audititem_change", args=[audit.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert audit.item.listing.url in page.text
    assert rules_moderator.username not in page.text  # who decided is not shown
    assert "Accepted: listing removed" not in page.text and "Rejected" not in page.text.replace("Reject:", "")
    client.post(url, {"verdict": "reject"})
    audit.refresh_from_db()
    assert (audit.auditor, audit.audit_verdict) == (auditor, "reject")


def test_the_report_gives_wilson_intervals_kappa_and_csv(client, decided_week, auditor, rules_lead, brand, settings):
    settings.MARKETSAFE = settings.MARKETSAFE | {"PROGRAM_MIN_AUDITED": 12}
    audits.audit_round_draw(week=_week(), seed="s1", per_stratum=10)
    for audit in AuditItem.objects.order_by("pk"):
        # The auditor agrees except on two accepted items, which the lead then finds were rightly accepted
        # once and wrongly once.
        verdict = audit.first_verdict
        if audit.pk in list(
            AuditItem.objects.filter(first_verdict="accept").order_by("pk").values_list("pk", flat=True)[:2]
        ):
            verdict = "reject"
        audits.audit_item_decide(audit_id=audit.pk, auditor=auditor, verdict=verdict)
    first, second = AuditItem.objects.filter(state="disagreed").order_by("pk")
    audits.audit_item_resolve(audit_id=first.pk, lead=rules_lead, verdict="accept")
    audits.audit_item_resolve(audit_id=second.pk, lead=rules_lead, verdict="reject")
    report = audits.audit_report()
    (moderator,) = report.moderators
    assert (moderator.audited, moderator.right) == (12, 11)
    low, high = audits.wilson_interval(11, 12)
    assert (moderator.low, moderator.high) == (low, high)
    (member,) = report.members
    assert (member.label, member.audited, member.right) == (brand.name, 12, 7)  # 7 founded of 12
    assert member.below_threshold  # 58% < 90%
    # First decisions vs audits: 8 accept / 4 reject first; audits 6 accept, 6 reject; 10 of 12 agree.
    assert report.kappa == pytest.approx((10 / 12 - (8 * 6 + 4 * 6) / 144) / (1 - (8 * 6 + 4 * 6) / 144))
    client.force_login(rules_lead)
    page = client.get(reverse("admin:audit_report"))
    assert page.status_code == 200 and "Below the program" in page.text
    csv = b"".join(client.get(reverse("admin:audit_report") + "?format=csv").streaming_content).decode()
    assert "moderator,rules-moderator,12,11,0.9167" in csv
    assert csv.splitlines()[0].lstrip("\ufeff") == ",".join(audits.CSV_HEADER)  # after the BOM Excel needs


def test_only_auditors_audit_and_only_leads_resolve(decided_week, rules_moderator, auditor):
    audits.audit_round_draw(week=_week(), seed="s1", per_stratum=1)
    audit = AuditItem.objects.first()
    other = factories.UserFactory(username="someone", is_staff=True)
    with pytest.raises(audits.PermissionDenied):
        audits.audit_item_decide(audit_id=audit.pk, auditor=other, verdict="accept")
    audits.audit_item_decide(
        audit_id=audit.pk, auditor=auditor, verdict="reject" if audit.first_verdict == "accept" else "accept"
    )
    with pytest.raises(audits.PermissionDenied):
        audits.audit_item_resolve(audit_id=audit.pk, lead=auditor, verdict="accept")
