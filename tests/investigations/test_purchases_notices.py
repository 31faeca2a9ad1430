"""Test purchases and notices: the reason "counterfeit confirmed by test purchase" is unlocked only by an
attached counterfeit verdict of the same brand on the listing or its seller; an attached purchase stands as
the evidence; the strike of such a final removal weighs double in the penalty ladder."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import services as case_services
from cases.choices import ItemStatus, ReasonCode
from cases.demo import drive_item_to
from cases.forms import FORM_REASONS
from cases.selectors import seller_history
from core.audit.models import AuditEvent
from core.errors import Conflict
from investigations.choices import CustodyEventType
from investigations.models import CustodyEvent, TestPurchaseAttachment
from investigations.selectors import custody_verify
from investigations.services import purchases as service
from listings.choices import PenaltyAction, SellerStatus
from listings.models import PenaltyPolicy, PenaltyThreshold, SellerPenalty, Strike
from tests import factories

pytestmark = pytest.mark.django_db

TP = ReasonCode.COUNTERFEIT_TEST_PURCHASE


@pytest.fixture
def file_with(brand, reporter, right, listing):
    """file_with(purchases, reason=TP, urls=[listing.url], evidence=()) → a case through `case_submit`."""

    def make(purchases, reason=TP, urls=None, evidence=()):
        return case_services.case_submit(
            request=factories.filing_request(
                brand=brand,
                actor=reporter,
                rights=[right],
                listing_urls=urls or [listing.url],
                reason_code=reason,
                evidence=list(evidence),
                test_purchase_ids=tuple(p.pk for p in purchases),
            )
        )

    return make


def test_a_counterfeit_verdict_unlocks_the_reason_and_is_attached_with_a_shared_link(file_with, counterfeit):
    purchase = counterfeit()
    case = file_with([purchase])
    item = case.items.get()
    assert item.reason_code == TP and not case.evidence.exists()  # the purchase is the evidence
    assert TestPurchaseAttachment.objects.get().item == item
    shared = CustodyEvent.objects.filter(purchase=purchase).latest("sequence")
    assert shared.event_type == CustodyEventType.SHARED and shared.data["item_id"] == item.pk
    assert custody_verify(purchase).complete
    assert AuditEvent.objects.filter(action="test_purchase.attach", target_id=purchase.pk).exists()


def test_the_reason_needs_an_attached_test_purchase(file_with):
    with pytest.raises(ValidationError) as refused:
        file_with([])
    assert "test_purchases" in refused.value.message_dict


@pytest.mark.parametrize("verdict", ["genuine", "inconclusive"])
def test_only_a_counterfeit_verdict_unlocks_it(file_with, record, reporter, verdict):
    purchase = service.purchase_verdict(
        purchase=record(), actor=reporter, verdict=verdict, report="Examined.", authenticator_name="Dana"
    )
    with pytest.raises(ValidationError, match="no counterfeit verdict"):
        file_with([purchase])


def test_another_brands_purchase_does_not(file_with, other_brand, member_of, listing):
    theirs = service.purchase_verdict(
        purchase=service.purchase_record(
            brand=other_brand,
            actor=member_of(of=other_brand),
            listing_url=listing.url,
            order_id="THEIRS",
            purchased_on=listing.created_at.date(),
        ),
        actor=member_of(of=other_brand),
        verdict="counterfeit",
        report="Fake.",
        authenticator_name="Dana",
    )
    with pytest.raises(ValidationError, match="not one of this brand's"):
        file_with([theirs])
    assert not TestPurchaseAttachment.objects.exists()


def test_it_backs_another_listing_of_the_same_seller_but_not_of_another(file_with, counterfeit, marketplace, seller):
    purchase = counterfeit()
    same = factories.ListingFactory(marketplace=marketplace, seller=seller, url="https://shopnow.example/item/SAME")
    case = file_with([purchase], urls=[same.url])
    assert case.items.get().listing == same
    stranger = factories.ListingFactory(marketplace=marketplace, url="https://shopnow.example/item/OTHER")
    with pytest.raises(ValidationError) as refused:
        file_with([purchase], urls=[stranger.url])
    assert any("No counterfeit test purchase" in m for m in refused.value.message_dict["test_purchases"])


def test_an_attached_purchase_satisfies_the_evidence_requirement_of_another_reason(file_with, counterfeit):
    # The brand is in the standard lane: evidence is required for every reason.
    case = file_with([counterfeit()], reason=ReasonCode.COUNTERFEIT)
    assert not case.evidence.exists() and TestPurchaseAttachment.objects.count() == 1
    with pytest.raises(ValidationError) as refused:
        file_with([], reason=ReasonCode.COUNTERFEIT, urls=["https://shopnow.example/item/NONE"])
    assert "evidence" in refused.value.message_dict


def test_the_general_filing_form_does_not_offer_the_reason():
    assert TP not in FORM_REASONS and ReasonCode.COUNTERFEIT in FORM_REASONS


def test_attaching_to_an_existing_item(file_case, counterfeit, reporter, listing):
    purchase = counterfeit()
    item = file_case(listing_urls=[listing.url]).items.get()
    service.purchase_attach(purchase=purchase, item=item, actor=reporter)
    assert TestPurchaseAttachment.objects.filter(purchase=purchase, item=item).exists()
    with pytest.raises(Conflict, match="already attached"):
        service.purchase_attach(purchase=purchase, item=item, actor=reporter)


def test_a_final_removal_confirmed_by_test_purchase_weighs_two(file_with, counterfeit, moderator, reporter, seller):
    policy = PenaltyPolicy.objects.create(name="Ladder", is_active=True)
    for action, strikes in ((PenaltyAction.WARN, 1), (PenaltyAction.RESTRICT, 2)):
        PenaltyThreshold.objects.create(policy=policy, action=action, strikes=strikes)
    item = file_with([counterfeit()]).items.get()
    drive_item_to(item, ItemStatus.FINAL, moderator=moderator, brand_user=reporter)
    strike = Strike.objects.get(source_item_id=item.pk)
    assert strike.weight == 2 and strike.reason_code == TP
    seller.refresh_from_db()
    # One removal, two in the ladder: the restriction is reached at once.
    assert seller.status == SellerStatus.RESTRICTED
    assert list(SellerPenalty.objects.filter(seller=seller).values_list("active_strikes", flat=True)) == [2]
    assert seller_history(seller_id=seller.pk).active_strikes == 2


def test_an_ordinary_counterfeit_strike_still_weighs_one(file_case, moderator, reporter, listing):
    item = file_case(listing_urls=[listing.url]).items.get()
    drive_item_to(item, ItemStatus.FINAL, moderator=moderator, brand_user=reporter)
    assert Strike.objects.get(source_item_id=item.pk).weight == 1


def test_filing_from_the_purchase_page(client, brand, reporter, right, counterfeit, listing, marketplace, seller):
    purchase = counterfeit()
    other = factories.ListingFactory(marketplace=marketplace, seller=seller, url="https://shopnow.example/item/O2")
    client.force_login(reporter)
    page = reverse("investigations:notice_create", kwargs={"brand_slug": brand.slug, "pk": purchase.pk})
    body = client.get(page).content.decode()
    assert other.url in body and listing.url in body
    response = client.post(
        page,
        {
            "idempotency_key": "6f1c8f0e-6b1e-4a53-9d61-1b8f7c6d2a10",
            "rights": [right.pk],
            "listings": [listing.pk, other.pk],
            "explanation": "Examined: counterfeit.",
            "declare_good_faith": "on",
            "declare_accuracy": "on",
            "declare_authority": "on",
            "signed_name": "Rita Reporter",
        },
    )
    attachments = TestPurchaseAttachment.objects.filter(purchase=purchase)
    case = attachments.first().item.case
    assert response["Location"] == reverse("cases:case_detail", kwargs={"brand_slug": brand.slug, "pk": case.pk})
    assert attachments.count() == 2 and case.reason_code == TP


def test_the_filing_page_refuses_a_purchase_without_a_counterfeit_verdict(client, brand, reporter, record):
    purchase = record()
    client.force_login(reporter)
    page = reverse("investigations:notice_create", kwargs={"brand_slug": brand.slug, "pk": purchase.pk})
    response = client.get(page, follow=True)
    assert "has no counterfeit verdict" in response.content.decode()


def test_attaching_from_the_purchase_page(client, brand, reporter, counterfeit, file_case, listing):
    purchase = counterfeit()
    item = file_case(listing_urls=[listing.url]).items.get()
    client.force_login(reporter)
    page = reverse("investigations:purchase_detail", kwargs={"brand_slug": brand.slug, "pk": purchase.pk})
    attach = reverse("investigations:attach", kwargs={"brand_slug": brand.slug, "pk": purchase.pk, "item_id": item.pk})
    assert attach in client.get(page).content.decode()
    response = client.post(attach, follow=True)
    body = response.content.decode()
    assert f"now backs case #{item.case_id}" in body and attach not in body
    assert TestPurchaseAttachment.objects.filter(purchase=purchase, item=item).exists()


def test_an_order_the_marketplace_did_not_find_backs_nothing(file_with, counterfeit):
    purchase = counterfeit()
    service.purchase_confirm_order(purchase_id=purchase.pk, found=False)
    with pytest.raises(ValidationError, match="found no order"):
        file_with([purchase])
