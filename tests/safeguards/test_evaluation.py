"""Evaluation (issue 18, point 2): new items and items whose listing changed are evaluated against the
background and live rules, every hit stored with its version and the values it read; each action's effect."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cases import services as case_services
from cases.models import CaseItem
from core.errors import Conflict, TransitionNotAllowed
from listings.upserts import listings_upsert
from safeguards.models import RuleHit, SecondApproval
from safeguards.services import approvals
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(marketplace):
    return factories.SellerFactory(marketplace=marketplace, external_id="TOP1")


@pytest.fixture
def priced_listing(marketplace, seller):
    """A listing the marketplace already sent: price 900, by a seller with 3 live listings."""
    factories.ListingFactory.create_batch(2, marketplace=marketplace, seller=seller)
    return factories.ListingFactory(marketplace=marketplace, seller=seller, external_id="P1", price=900)


def _items(case):
    return list(CaseItem.objects.filter(case=case).order_by("pk"))


def test_a_filed_item_is_evaluated_and_the_hit_stores_version_and_values(make_rule, file_case, priced_listing):
    rule = make_rule("listing.price > 500.0 and seller.live_listings >= 3", action="flag")
    case = file_case(listing_urls=[priced_listing.url, "https://shopnow.example/item/OTHER"])
    hit, other = RuleHit.objects.get(), _items(case)[1]
    assert hit.item == _items(case)[0] and hit.version == rule.current_version
    assert hit.values == {"listing.price": 900.0, "seller.live_listings": 3.0}
    assert hit.trigger == "item_submitted" and hit.mode == "live"
    assert not RuleHit.objects.filter(item=other).exists()


def test_draft_and_disabled_rules_are_not_evaluated_background_ones_are(make_rule, file_case):
    make_rule("true", mode="draft")
    make_rule("true", mode="live", enabled=False)
    background = make_rule("item.lane == 'standard'", mode="background", action="force_human_review")
    case = file_case(2)
    assert {(h.version_id, h.mode) for h in RuleHit.objects.all()} == {(background.current_version_id, "background")}
    assert RuleHit.objects.count() == 2
    # Background hits take no effect: the items are accepted in bulk.
    outcome = case_services.items_accept(item_ids=[i.pk for i in _items(case)], actor=factories.UserFactory())
    assert len(outcome.done) == 2


def test_a_listing_change_from_the_marketplace_evaluates_open_items_again(make_rule, file_case, marketplace, seller):
    make_rule("listing.price >= 1000.0", action="flag")
    case = file_case(listing_urls=["https://shopnow.example/item/Q7"])
    assert not RuleHit.objects.exists()
    row = {"external_id": "Q7", "url": "https://shopnow.example/item/Q7", "seller_external_id": "TOP1"}
    listings_upsert(marketplace=marketplace, rows=[row | {"price": "1500.00", "currency": "EUR"}])
    hit = RuleHit.objects.get()
    assert hit.item == _items(case)[0] and hit.trigger == "listing_changed"
    assert hit.values == {"listing.price": 1500.0}
    # Sent again unchanged: no new hit; with another price: a new one.
    listings_upsert(marketplace=marketplace, rows=[row | {"price": "1500.00", "currency": "EUR"}])
    assert RuleHit.objects.count() == 1
    listings_upsert(marketplace=marketplace, rows=[row | {"price": "2000.00", "currency": "EUR"}])
    assert list(RuleHit.objects.order_by("pk").values_list("values", flat=True)) == [
        {"listing.price": 1500.0},
        {"listing.price": 2000.0},
    ]


def test_force_human_review_keeps_the_item_out_of_bulk_decisions_and_shows_its_reason(
    make_rule, file_case, priced_listing, client, rules_moderator
):
    make_rule("listing.price > 500.0", action="force_human_review", reason="Expensive: open it")
    case = file_case(listing_urls=[priced_listing.url, "https://shopnow.example/item/CHEAP"])
    flagged, plain = _items(case)
    outcome = case_services.items_accept(item_ids=[flagged.pk, plain.pk], actor=rules_moderator)
    assert outcome.done == [plain.pk]
    assert "Expensive: open it" in outcome.refused[flagged.pk]
    flagged.refresh_from_db()
    assert flagged.status == "submitted"
    # The queue shows why, and the item page too; one by one, a person may still decide it.
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    queue = client.get(reverse("admin:cases_caseitem_changelist"))
    assert "Force human review: Expensive: open it" in queue.text
    page = client.get(reverse("admin:cases_caseitem_change", args=[flagged.pk]))
    assert "Expensive: open it" in page.text
    case_services.item_accept(item_id=flagged.pk, actor=rules_moderator)
    flagged.refresh_from_db()
    assert flagged.status == "accepted"


def test_lower_priority_and_flag_hits_are_recorded_without_blocking(make_rule, file_case):
    make_rule("case.item_count > 1.0", action="lower_priority")
    case = file_case(2)
    assert sorted(RuleHit.objects.values_list("action", flat=True)) == ["lower_priority", "lower_priority"]
    outcome = case_services.items_accept(item_ids=[i.pk for i in _items(case)], actor=factories.UserFactory())
    assert len(outcome.done) == 2


def test_hold_second_approver_needs_a_second_lead(make_rule, file_case, priced_listing, rules_lead, second_lead):
    make_rule("seller.live_listings >= 3", action="hold_second_approver", reason="Large seller")
    item = _items(file_case(listing_urls=[priced_listing.url]))[0]
    with pytest.raises(TransitionNotAllowed, match="second approver"):
        case_services.item_accept(item_id=item.pk, actor=rules_lead)
    approval = approvals.approval_request(item_id=item.pk, decision="accept", actor=rules_lead, message="Fake")
    item.refresh_from_db()
    assert item.status == "submitted"  # nothing happens before the second approval
    with pytest.raises(Conflict, match="different moderation lead"):
        approvals.approval_approve(approval_id=approval.pk, actor=rules_lead)
    with pytest.raises(Conflict, match="already waits"):
        approvals.approval_request(item_id=item.pk, decision="reject", rejection_code="wrong_reason", actor=second_lead)
    approvals.approval_approve(approval_id=approval.pk, actor=second_lead)
    item.refresh_from_db()
    approval.refresh_from_db()
    assert (item.status, item.decided_by, item.moderator_message) == ("accepted", second_lead, "Fake")
    assert (approval.state, approval.approved_by) == ("approved", second_lead)
    with pytest.raises(Conflict, match="already approved"):
        approvals.approval_approve(approval_id=approval.pk, actor=second_lead)


def test_only_leads_take_part_in_a_second_approval(make_rule, file_case, rules_moderator, rules_lead):
    make_rule("true", action="hold_second_approver")
    item = _items(file_case())[0]
    with pytest.raises(PermissionDenied):
        approvals.approval_request(item_id=item.pk, decision="accept", actor=rules_moderator)
    approval = approvals.approval_request(
        item_id=item.pk, decision="reject", rejection_code="wrong_reason", actor=rules_lead
    )
    with pytest.raises(PermissionDenied):
        approvals.approval_approve(approval_id=approval.pk, actor=rules_moderator)
    assert SecondApproval.objects.get().state == "pending"


def test_an_item_without_a_hold_is_decided_directly(file_case, rules_lead):
    item = _items(file_case())[0]
    with pytest.raises(Conflict, match="not held"):
        approvals.approval_request(item_id=item.pk, decision="accept", actor=rules_lead)


def test_leads_request_and_approve_in_the_admin(client, make_rule, file_case, rules_lead, second_lead):
    make_rule("true", action="hold_second_approver", reason="Always two")
    item = _items(file_case())[0]
    client.force_login(rules_lead)
    added = client.post(
        reverse("admin:safeguards_secondapproval_add"),
        {"item": item.pk, "decision": "reject", "rejection_code": "wrong_reason", "message": "Not ours"},
    )
    assert added.status_code == 302
    approval = SecondApproval.objects.get()
    changelist = reverse("admin:safeguards_secondapproval_changelist")
    client.post(changelist, {"action": "approve", "_selected_action": [approval.pk]})
    approval.refresh_from_db()
    assert approval.state == "pending"  # the same lead cannot approve
    client.force_login(second_lead)
    client.post(changelist, {"action": "approve", "_selected_action": [approval.pk]})
    item.refresh_from_db()
    assert (item.status, item.rejection_code, item.decided_by) == ("rejected", "wrong_reason", second_lead)


def test_force_human_review_also_refuses_the_item_in_a_background_decision(make_rule, file_case, rules_moderator):
    make_rule("item.reason_code == 'counterfeit'", action="force_human_review", reason="Counterfeit: open it")
    items = _items(file_case(2)) + _items(file_case(1, reason_code="copyright"))
    bulk = case_services.bulk_decision_start(
        actor=rules_moderator, decision="reject", item_ids=[i.pk for i in items], code="wrong_reason"
    )
    bulk = case_services.bulk_decision_run(bulk_id=str(bulk.pk))
    assert bulk.done_ids == [items[2].pk]
    assert sorted(int(pk) for pk in bulk.refused) == [items[0].pk, items[1].pk]
    assert all("Counterfeit: open it" in why for why in bulk.refused.values())


def test_a_batch_reads_the_same_values_as_each_item_alone(file_case, priced_listing, marketplace):
    """A batch reads the facts shared by its items (seller's live listings, the notice's item count, its
    newest right) once per seller or case; one item reads them by correlated subqueries: same values."""
    from safeguards.expressions import FACT_SYMBOLS, FIELDS, _fact_joins, values_for

    assert set(_fact_joins()) == FACT_SYMBOLS

    case = file_case(
        listing_urls=[priced_listing.url, "https://shopnow.example/item/B2", "https://shopnow.example/item/B3"]
    )
    other = file_case(1)
    ids = [*(i.pk for i in _items(case)), *(i.pk for i in _items(other))]
    symbols = {f.symbol for f in FIELDS}
    batch = values_for(ids, symbols, "status")
    assert batch == {pk: values_for([pk], symbols, "status")[pk] for pk in ids}
    first = batch[ids[0]]
    assert (first["seller__live_listings"], first["case__item_count"], batch[ids[-1]]["case__item_count"]) == (3, 3, 1)
    assert abs(first["right__age_days"]) < 1 and batch[ids[1]]["seller__live_listings"] == 0


def test_a_rule_changed_after_an_evaluation_is_read_again_before_the_next(make_rule, file_case, rules_lead):
    """The evaluated versions are kept between evaluations and checked against the rules table's state before
    each: a change is seen by the very next evaluation."""
    from safeguards.services.rules import rule_save

    rule = make_rule("true", action="flag", name="everything")
    file_case()
    assert RuleHit.objects.filter(version=rule.current_version).count() == 1
    rule_save(
        actor=rules_lead, rule_id=rule.pk, name="everything", expression="true", action="flag", mode="draft", reason="x"
    )
    file_case()
    assert RuleHit.objects.count() == 1  # the draft is not evaluated
    changed = rule_save(
        actor=rules_lead, rule_id=rule.pk, name="everything", expression="false", action="flag", mode="live", reason="x"
    )
    newer = make_rule("item.lane == 'standard'", action="flag")
    file_case()
    assert not RuleHit.objects.filter(version=changed.current_version).exists()
    assert RuleHit.objects.filter(version=newer.current_version).count() == 1
