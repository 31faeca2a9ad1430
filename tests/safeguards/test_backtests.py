"""Backtests (issue 18, point 3): a rule version over the decided items, in the background with progress,
scored against the decisions taken."""

import pytest
from django.urls import reverse

from cases import services as case_services
from cases.models import CaseItem
from safeguards.models import Backtest
from safeguards.services import backtests
from tests import factories
from tests.workers import running_worker, wait_until


@pytest.fixture
def decided(file_case, marketplace, rules_lead, brand, reporter):
    """Five items: accepted, rejected, reinstated (counter-notice the brand accepted) and accepted without a
    price, all decided; and one still submitted. All but the unpriced one are priced 900."""
    seller = factories.SellerFactory(marketplace=marketplace)
    urls = []
    for n, price in enumerate([900, 900, 900, None, 900]):
        listing = factories.ListingFactory(marketplace=marketplace, seller=seller, external_id=f"B{n}", price=price)
        urls.append(listing.url)
    items = list(CaseItem.objects.filter(case=file_case(listing_urls=urls)).order_by("pk"))
    accepted, rejected, reinstated, unpriced, _open = (item.pk for item in items)
    for item_id in (accepted, reinstated, unpriced):
        case_services.item_accept(item_id=item_id, actor=rules_lead)
    case_services.item_reject(item_id=rejected, actor=rules_lead, code="wrong_reason")
    case_services.item_counter_notice(item_id=reinstated, reason="genuine", explanation="Invoice attached")
    case_services.item_brand_answer(item_id=reinstated, actor=reporter, accept=True, note="Fair enough")
    assert CaseItem.objects.get(pk=reinstated).status == "reinstated"
    return items


@pytest.mark.django_db
def test_a_backtest_scores_the_rule_against_the_decisions_in_batches(decided, make_rule, rules_lead):
    rule = make_rule("listing.price > 500.0", mode="draft")
    backtest = backtests.backtest_start(version_id=rule.current_version_id, actor=rules_lead)
    assert backtest.items_total == 4  # the submitted item is no past decision
    done = backtests.backtest_run(backtest_id=backtest.pk, batch=3)
    assert (done.state, done.items_done, done.last_item_id) == ("done", 4, decided[3].pk)
    assert (done.matched, done.matched_accepted, done.matched_rejected, done.matched_reinstated) == (3, 1, 1, 1)
    # A second delivery of the same message changes nothing.
    again = backtests.backtest_run(backtest_id=backtest.pk)
    assert (again.items_done, again.matched) == (4, 3)


@pytest.mark.django_db
def test_a_moderator_cannot_start_a_backtest(make_rule, rules_moderator):
    rule = make_rule("true")
    with pytest.raises(backtests.PermissionDenied):
        backtests.backtest_start(version_id=rule.current_version_id, actor=rules_moderator)
    assert not Backtest.objects.exists()


@pytest.mark.django_db
def test_a_lead_starts_a_backtest_in_the_admin_and_follows_its_progress(client, make_rule, rules_lead, decided):
    rule = make_rule("item.reason_code == 'counterfeit'", mode="draft")
    client.force_login(rules_lead)
    answer = client.post(
        reverse("admin:safeguards_rule_changelist"), {"action": "backtest", "_selected_action": [rule.pk]}, follow=True
    )
    backtest = Backtest.objects.get()
    assert "follow it" in answer.text
    backtests.backtest_run(backtest_id=backtest.pk, batch=2)
    page = client.get(reverse("admin:safeguards_backtest_change", args=[backtest.pk]))
    assert '<progress value="100" max="100"' in page.text
    assert "4 of 4 items" in page.text


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_backtest(file_case):
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    items = list(CaseItem.objects.filter(case=file_case(3)).order_by("pk"))
    for item in items[:2]:
        case_services.item_accept(item_id=item.pk, actor=root)
    from safeguards.services.rules import rule_save

    rule = rule_save(actor=root, name="all", expression="true", action="flag", mode="draft", reason="r")
    with running_worker():
        backtest = backtests.backtest_start(version_id=rule.current_version_id, actor=root)
        wait_until(lambda: Backtest.objects.get(pk=backtest.pk).state == "done", what="backtest done")
    backtest.refresh_from_db()
    assert (backtest.items_done, backtest.matched, backtest.matched_accepted) == (2, 2, 2)
