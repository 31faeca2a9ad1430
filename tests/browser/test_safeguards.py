"""A moderation lead writes a risk rule (seeing the compile error first) and backtests it; a quality auditor
re-decides a sampled item blind from the audit queue."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import services as case_services
from cases.models import CaseItem
from safeguards.models import AuditItem, Backtest
from safeguards.services import audits, backtests
from tests.safeguards.groups import in_group, make_staff_groups


@pytest.fixture
def groups(transactional_db):
    make_staff_groups()


@pytest.mark.django_db(transaction=True)
def test_a_lead_writes_a_rule_and_backtests_it(login, live_server, groups, file_case):
    lead = in_group("browser-lead", "Moderation leads")
    for item in CaseItem.objects.filter(case=file_case(3)):
        case_services.item_accept(item_id=item.pk, actor=lead)
    page = login(lead.username)
    page.goto(live_server.url + reverse("admin:safeguards_rule_add"))
    expect(page.get_by_text("seller.live_listings", exact=False).first).to_be_visible()  # the fields' help
    page.get_by_label("Name").fill("Expensive listings")
    page.get_by_label("Expression").fill("listing.price > 'a lot'")
    page.get_by_label("Action").select_option("force_human_review")
    page.get_by_label("Mode").select_option("background")
    page.get_by_label("Reason").fill("Expensive goods: a person looks")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Type error", exact=False)).to_be_visible()
    page.get_by_label("Expression").fill("item.reason_code == 'counterfeit'")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully", exact=False)).to_be_visible()

    page.locator("#action-toggle").check()
    page.get_by_role("combobox", name="Action").select_option("backtest")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("started", exact=False)).to_be_visible()
    backtest = Backtest.objects.get()
    backtests.backtest_run(backtest_id=backtest.pk)  # what the worker does (its own tests run a real one)
    page.get_by_role("link", name="follow it").click()
    expect(page.get_by_label("Backtest progress")).to_have_attribute("value", "100")
    expect(page.get_by_text("3 of 3 items", exact=False)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_an_auditor_re_decides_blind_from_the_queue(login, live_server, groups, file_case):
    moderator = in_group("browser-moderator", "Moderators")
    auditor = in_group("browser-auditor", "Quality auditors")
    for item in CaseItem.objects.filter(case=file_case(2)):
        case_services.item_accept(item_id=item.pk, actor=moderator)
    today = timezone.localdate()
    audits.audit_round_draw(week=today - timedelta(days=today.weekday()), seed="browser", per_stratum=1)
    audit = AuditItem.objects.get()
    page = login(auditor.username)
    page.goto(live_server.url + reverse("admin:safeguards_audititem_changelist"))
    page.get_by_role("link", name=str(audit.pk), exact=True).click()
    expect(page.get_by_text(audit.item.listing.url).first).to_be_visible()
    expect(page.get_by_text(moderator.username)).to_have_count(0)  # blind: who decided is not shown
    page.get_by_label("Reject: the report is not founded").check()
    page.get_by_role("button", name="Record my verdict").click()
    expect(page.get_by_text("Verdict recorded")).to_be_visible()
    audit.refresh_from_db()
    assert (audit.state, audit.auditor_id) == ("disagreed", auditor.pk)
