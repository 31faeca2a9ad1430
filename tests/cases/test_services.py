"""The effects and rules of the item lifecycle services, against the real database.

Which action is allowed from which status is covered by test_transitions.py; here: what each service
changes (items, cases, listings, strikes, audit events) and the rules that hold whoever calls it.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from brands.choices import IPRightStatus, Role
from cases import services
from cases.choices import (
    DECLARATION_TEXT,
    REJECTION_FIX_GUIDANCE,
    AppealStatus,
    AppellantSide,
    CaseStatus,
    CounterNoticeAnswer,
    CounterNoticeReason,
    DeclarationKind,
    ItemStatus,
    RejectionCode,
)
from cases.demo import demo_evidence, drive_item_to
from cases.models import Appeal, Case, CaseItem, CounterNotice, Declaration, Evidence
from cases.services import TransitionNotAllowed
from core.audit.models import AuditEvent
from listings import services as listing_services
from listings.choices import ListingStatus
from listings.models import Listing, PenaltyPolicy, Strike
from tests import factories

pytestmark = pytest.mark.django_db

S = ItemStatus
RULES = settings.MARKETSAFE
SECOND = timedelta(seconds=1)


def events(action: str, target) -> list[AuditEvent]:
    """The audit events of one action on one object, oldest first."""
    return list(
        AuditEvent.objects.filter(
            action=action, target_type=ContentType.objects.get_for_model(target), target_id=target.pk
        ).order_by("id")
    )


def row_counts() -> dict[str, int]:
    models = (Case, CaseItem, Listing, Declaration, Evidence, AuditEvent)
    return {model.__name__: model.objects.count() for model in models}


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()
    return objects[0] if len(objects) == 1 else objects


@pytest.fixture
def seller_listing(marketplace):
    """A listing whose seller is known (strikes need one)."""
    return factories.ListingFactory(marketplace=marketplace)


@pytest.fixture
def other_filing(other_brand, member_of):
    """file_case(**other_filing) files for the other brand, by its own reporter, on its own right."""
    return {
        "brand": other_brand,
        "actor": member_of(Role.REPORTER, of=other_brand),
        "rights": [factories.IPRightFactory(brand=other_brand)],
    }


@pytest.fixture
def expedited(brand):
    return factories.ProgramMembershipFactory(brand=brand)


# --- case_submit: what a filing creates -----------------------------------------------------------


def test_submit_creates_one_submitted_item_per_url(file_case, marketplace):
    urls = [f"https://shopnow.example/item/N{i}" for i in range(3)]
    case = file_case(listing_urls=urls)

    items = list(case.items.select_related("listing").order_by("pk"))
    assert [item.listing.url for item in items] == urls
    assert {item.status for item in items} == {S.SUBMITTED}
    assert {item.brand_id for item in items} == {case.brand_id}
    assert {item.reason_code for item in items} == {"counterfeit"}
    assert case.status == CaseStatus.RECEIVED
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED


def test_submit_records_declarations_and_rights(file_case, reporter, right):
    case = file_case(signed_name="  Rita Reporter ", ip_address="192.0.2.10")

    declarations = {d.kind: d for d in case.declarations.all()}
    assert set(declarations) == set(DeclarationKind.values)
    for kind, declaration in declarations.items():
        assert declaration.statement == DECLARATION_TEXT[kind]
        assert declaration.signed_name == "Rita Reporter"
        assert declaration.signed_by == reporter
        assert declaration.signed_at == case.submitted_at
        assert declaration.ip_address == "192.0.2.10"
    assert list(case.rights.all()) == [right]
    assert case.filed_by == reporter
    evidence = case.evidence.get()
    assert (evidence.original_name, evidence.content_type, evidence.size) == ("evidence.png", "image/png", 72)
    assert len(evidence.sha256) == 64


def test_submit_writes_one_case_event_and_one_event_per_item(file_case, brand, reporter):
    case = file_case(n=3)

    [case_event] = events("case.submit", case)
    assert (case_event.brand_id, case_event.actor, case_event.to_state) == (brand.pk, reporter, CaseStatus.RECEIVED)
    assert case_event.data == {"items": 3, "lane": "standard", "channel": "web"}
    item_events = AuditEvent.objects.filter(action="item.submit")
    assert sorted(e.target_id for e in item_events) == sorted(case.items.values_list("pk", flat=True))
    for event in item_events:
        assert event.target_type == ContentType.objects.get_for_model(CaseItem)
        assert (event.brand_id, event.actor_id, event.from_state, event.to_state) == (
            brand.pk,
            reporter.pk,
            "",
            S.SUBMITTED,
        )


@pytest.mark.parametrize(("member", "lane"), [(False, "standard"), (True, "expedited")])
def test_submit_lane_and_sla_follow_program_membership(member, lane, brand, file_case):
    if member:
        factories.ProgramMembershipFactory(brand=brand)

    case = file_case(n=2)

    assert case.lane == lane
    for item in case.items.all():
        assert item.lane == lane
        assert item.sla_due_at - item.submitted_at == timedelta(hours=RULES["SLA_HOURS"][lane])
    assert RULES["SLA_HOURS"] == {"standard": 72, "expedited": 24}


def test_submit_without_evidence_refused_in_standard_lane(file_case):
    before = row_counts()
    with pytest.raises(ValidationError) as excinfo:
        file_case(evidence=[])
    assert set(excinfo.value.message_dict) == {"evidence"}
    assert row_counts() == before


def test_submit_without_evidence_allowed_in_expedited_lane_for_counterfeit(expedited, file_case):
    case = file_case(evidence=[], reason_code="counterfeit")
    assert case.lane == "expedited"
    assert case.evidence.count() == 0
    assert case.items.count() == 1


def test_submit_without_evidence_refused_in_expedited_lane_for_patent(expedited, brand, file_case):
    patent = factories.IPRightFactory(brand=brand, kind="patent")
    with pytest.raises(ValidationError) as excinfo:
        file_case(evidence=[], reason_code="patent", rights=[patent])
    assert set(excinfo.value.message_dict) == {"evidence"}
    assert Case.objects.count() == 0


UNUSABLE_RIGHTS = {
    "other brand's": lambda brand, other_brand: factories.IPRightFactory(brand=other_brand),
    "pending": lambda brand, other_brand: factories.IPRightFactory(
        brand=brand, status=IPRightStatus.PENDING, verified_at=None
    ),
    "rejected": lambda brand, other_brand: factories.IPRightFactory(brand=brand, status=IPRightStatus.REJECTED),
    "retired": lambda brand, other_brand: factories.IPRightFactory(brand=brand, retired_at=timezone.now()),
    "expired by date": lambda brand, other_brand: factories.IPRightFactory(
        brand=brand, valid_until=timezone.localdate() - timedelta(days=1)
    ),
    "expired by status": lambda brand, other_brand: factories.IPRightFactory(brand=brand, status=IPRightStatus.EXPIRED),
    "not yet valid": lambda brand, other_brand: factories.IPRightFactory(
        brand=brand, valid_from=timezone.localdate() + timedelta(days=1)
    ),
}


@pytest.mark.parametrize("kind", UNUSABLE_RIGHTS)
def test_submit_refuses_unusable_right_and_names_it(kind, brand, other_brand, right, file_case):
    bad = UNUSABLE_RIGHTS[kind](brand, other_brand)

    with pytest.raises(ValidationError) as excinfo:
        file_case(rights=[right, bad])

    messages = excinfo.value.message_dict["rights"]
    assert len(messages) == 1
    # Another brand's right is named by its id only: the filing reads no right outside its brand.
    assert (str(bad) if bad.brand_id == brand.pk else f"Right #{bad.pk} ") in messages[0]
    assert str(right) not in messages[0]
    assert Case.objects.count() == 0


def test_submit_refuses_no_rights(file_case):
    with pytest.raises(ValidationError) as excinfo:
        file_case(rights=[])
    assert list(excinfo.value.message_dict) == ["rights"]


def test_submit_refuses_more_than_the_maximum_of_urls(file_case):
    urls = [f"https://shopnow.example/item/M{i}" for i in range(RULES["MAX_ITEMS_PER_CASE"] + 1)]
    with pytest.raises(ValidationError) as excinfo:
        file_case(listing_urls=urls)
    assert "at most 1000" in excinfo.value.message_dict["listings"][0]
    assert Listing.objects.count() == 0


def test_submit_accepts_exactly_the_maximum_of_urls(file_case):
    urls = [f"https://shopnow.example/item/M{i}" for i in range(1000)]
    case = file_case(listing_urls=urls)
    assert case.items.count() == 1000
    assert AuditEvent.objects.filter(action="item.submit").count() == 1000


def test_submit_refuses_duplicate_urls(file_case):
    url = "https://shopnow.example/item/D1"
    with pytest.raises(ValidationError) as excinfo:
        file_case(listing_urls=[url, "https://shopnow.example/item/D2", url])
    assert excinfo.value.message_dict["listings"] == ["The same listing URL appears more than once."]
    assert Listing.objects.count() == 0


def test_submit_refuses_a_listing_already_open_in_the_brands_cases(file_case):
    url = "https://shopnow.example/item/OPEN1"
    first = file_case(listing_urls=[url])

    with pytest.raises(ValidationError) as excinfo:
        file_case(listing_urls=["https://shopnow.example/item/FRESH", url])

    assert excinfo.value.message_dict["listings"] == [f"Already reported in one of your open cases: {url}"]
    assert list(Case.objects.all()) == [first]
    assert not Listing.objects.filter(url="https://shopnow.example/item/FRESH").exists()


def test_submit_allows_a_listing_open_in_another_brands_case(file_case, other_filing, other_brand):
    url = "https://shopnow.example/item/SHARED"
    ours = file_case(listing_urls=[url])

    theirs = file_case(listing_urls=[url], **other_filing)

    assert theirs.brand == other_brand
    assert theirs.items.get().listing_id == ours.items.get().listing_id
    assert Listing.objects.filter(url=url).count() == 1


def test_submit_allows_a_listing_again_after_its_item_is_rejected(file_case, moderator):
    url = "https://shopnow.example/item/AGAIN"
    first = file_case(listing_urls=[url]).items.get()
    services.item_reject(item_id=first.pk, actor=moderator, code=RejectionCode.INSUFFICIENT_EVIDENCE)

    second = file_case(listing_urls=[url]).items.get()

    assert second.listing_id == first.listing_id
    assert second.status == S.SUBMITTED


def test_submit_refuses_an_unknown_marketplace_host(file_case):
    with pytest.raises(ValidationError) as excinfo:
        file_case(listing_urls=["https://shopnow.example/item/OK1", "https://nowhere.example/item/1"])
    assert excinfo.value.message_dict["listings"] == ["No marketplace in the portal hosts nowhere.example."]
    assert Listing.objects.count() == 0


def test_submit_with_the_same_idempotency_key_returns_the_first_case(file_case):
    first = file_case(idempotency_key="form-123")
    before = row_counts()

    again = file_case(idempotency_key="form-123", n=2)

    assert again.pk == first.pk
    assert row_counts() == before


def test_idempotency_keys_are_per_brand(file_case, other_filing):
    ours = file_case(idempotency_key="form-123")
    theirs = file_case(idempotency_key="form-123", **other_filing)
    assert theirs.pk != ours.pk
    assert Case.objects.count() == 2


def test_submit_creates_unknown_listings_from_their_url(file_case, marketplace, seller_listing):
    case = file_case(listing_urls=["https://shopnow.example/item/AB12", seller_listing.url])

    created = Listing.objects.get(url="https://shopnow.example/item/AB12")
    assert (created.marketplace, created.external_id, created.seller, created.status) == (
        marketplace,
        "AB12",
        None,
        ListingStatus.ACTIVE,
    )
    # A known listing is reused, not duplicated.
    assert Listing.objects.count() == 2
    assert {item.listing_id for item in case.items.all()} == {created.pk, seller_listing.pk}


FAILED_FILINGS = {
    "unknown host after a new listing": lambda file_case, url: file_case(
        listing_urls=["https://shopnow.example/item/NEW1", "https://nowhere.example/x"]
    ),
    "already open after a new listing": lambda file_case, url: file_case(
        listing_urls=["https://shopnow.example/item/NEW1", url]
    ),
    "missing evidence": lambda file_case, url: file_case(
        listing_urls=["https://shopnow.example/item/NEW1"], evidence=[]
    ),
    "blank signature": lambda file_case, url: file_case(
        listing_urls=["https://shopnow.example/item/NEW1"], signed_name="  "
    ),
}


@pytest.mark.parametrize("failure", FAILED_FILINGS)
def test_failed_submit_saves_nothing(failure, file_case):
    url = "https://shopnow.example/item/ALREADY"
    file_case(listing_urls=[url])
    before = row_counts()

    with pytest.raises(ValidationError):
        FAILED_FILINGS[failure](file_case, url)

    assert row_counts() == before
    assert not Listing.objects.filter(url="https://shopnow.example/item/NEW1").exists()


# --- accept, reject, case status ------------------------------------------------------------------


def test_accept_removes_the_listing_and_opens_the_windows(file_case, moderator):
    item = file_case().items.get()

    services.item_accept(item_id=item.pk, actor=moderator, message="Fake logo.")

    item, listing = refreshed(item, item.listing)
    assert item.status == S.ACCEPTED
    assert (item.decided_by, item.moderator_message) == (moderator, "Fake logo.")
    assert item.counter_notice_due_at == item.decided_at + RULES["COUNTER_NOTICE_WINDOW"]
    assert item.appeal_until == item.decided_at + RULES["APPEAL_WINDOW"]
    assert listing.status == ListingStatus.REMOVED
    [removal] = events("listing.remove", listing)
    assert (removal.from_state, removal.to_state, removal.actor) == ("active", "removed", moderator)
    assert removal.reason == f"Case item #{item.pk}"


def test_case_status_follows_its_items(file_case, moderator):
    case = file_case(n=2)
    first, second = case.items.order_by("pk")

    def case_status():
        return Case.objects.get(pk=case.pk).status

    assert case_status() == CaseStatus.RECEIVED
    services.item_start_review(item_id=first.pk, actor=moderator)
    assert case_status() == CaseStatus.IN_REVIEW
    services.item_accept(item_id=first.pk, actor=moderator)
    assert case_status() == CaseStatus.IN_REVIEW
    services.item_reject(item_id=second.pk, actor=moderator, code=RejectionCode.DUPLICATE)
    assert case_status() == CaseStatus.PROCESSED
    assert [(e.from_state, e.to_state) for e in events("case.status", case)] == [
        (CaseStatus.RECEIVED, CaseStatus.IN_REVIEW),
        (CaseStatus.IN_REVIEW, CaseStatus.PROCESSED),
    ]


def test_reject_with_an_unknown_code_is_refused(file_case, moderator):
    item = file_case().items.get()
    with pytest.raises(ValidationError) as excinfo:
        services.item_reject(item_id=item.pk, actor=moderator, code="because")
    assert list(excinfo.value.message_dict) == ["code"]
    assert refreshed(item).status == S.SUBMITTED


def test_rejection_tells_the_brand_how_to_fix_it(file_case, moderator):
    item = file_case().items.get()
    services.item_reject(item_id=item.pk, actor=moderator, code=RejectionCode.INSUFFICIENT_EVIDENCE, message="None.")
    item = refreshed(item)
    assert item.rejection_code == RejectionCode.INSUFFICIENT_EVIDENCE
    assert item.how_to_fix == REJECTION_FIX_GUIDANCE[RejectionCode.INSUFFICIENT_EVIDENCE]
    assert "test purchase" in item.how_to_fix
    assert item.appeal_until == item.decided_at + RULES["APPEAL_WINDOW"]
    [event] = events("item.reject", item)
    assert event.data == {"code": "insufficient_evidence"}


# --- withdraw -------------------------------------------------------------------------------------


def test_withdrawing_an_accepted_item_reinstates_the_listing(file_case, moderator, reporter):
    item = drive_item_to(file_case().items.get(), S.ACCEPTED, moderator=moderator, brand_user=reporter)

    services.item_withdraw(item_id=item.pk, actor=reporter, reason="Settled with the seller.")

    item, listing = refreshed(item, item.listing)
    assert item.status == S.WITHDRAWN
    assert listing.status == ListingStatus.REINSTATED
    [event] = events("listing.reinstate", listing)
    assert event.actor == reporter


def test_withdrawing_keeps_the_listing_removed_while_another_brands_removal_holds(
    file_case, other_filing, moderator, reporter
):
    url = "https://shopnow.example/item/BOTH"
    ours = file_case(listing_urls=[url]).items.get()
    theirs = file_case(listing_urls=[url], **other_filing).items.get()
    services.item_accept(item_id=ours.pk, actor=moderator)
    services.item_accept(item_id=theirs.pk, actor=moderator)
    listing = ours.listing

    services.item_withdraw(item_id=ours.pk, actor=reporter)

    assert refreshed(listing).status == ListingStatus.REMOVED
    assert events("listing.reinstate", listing) == []
    assert len(events("listing.remove", listing)) == 1

    services.item_withdraw(item_id=theirs.pk, actor=other_filing["actor"])
    assert refreshed(listing).status == ListingStatus.REINSTATED


def test_withdrawing_keeps_the_listing_removed_while_another_brands_removal_is_under_appeal(
    file_case, other_filing, moderator, reporter
):
    url = "https://shopnow.example/item/APPEALED"
    ours = file_case(listing_urls=[url]).items.get()
    theirs = file_case(listing_urls=[url], **other_filing).items.get()
    services.item_accept(item_id=ours.pk, actor=moderator)
    theirs = drive_item_to(theirs, S.FINAL, moderator=moderator, brand_user=other_filing["actor"])
    services.item_appeal(item_id=theirs.pk, appellant=AppellantSide.SELLER, grounds="Genuine goods.")
    listing = ours.listing

    services.item_withdraw(item_id=ours.pk, actor=reporter)

    assert refreshed(listing).status == ListingStatus.REMOVED


# --- counter-notices and the brand's answer -------------------------------------------------------


@pytest.fixture
def counter_noticed(file_case, seller_listing, moderator, reporter):
    item = file_case(listing_urls=[seller_listing.url]).items.get()
    return drive_item_to(item, S.COUNTER_NOTICED, moderator=moderator, brand_user=reporter)


def test_counter_notice_opens_the_brands_answer_window(counter_noticed):
    notice = counter_noticed.counter_notices.get()
    assert (notice.attempt, notice.answer) == (1, CounterNoticeAnswer.PENDING)
    assert notice.answer_due_at == notice.received_at + RULES["BRAND_ANSWER_WINDOW"]
    assert counter_noticed.brand_answer_due_at == notice.answer_due_at


def test_counter_notice_after_the_window_is_refused(file_case, moderator, reporter):
    item = drive_item_to(file_case().items.get(), S.ACCEPTED, moderator=moderator, brand_user=reporter)

    with pytest.raises(TransitionNotAllowed):
        services.item_counter_notice(
            item_id=item.pk,
            reason=CounterNoticeReason.GENUINE,
            explanation="Genuine.",
            received_at=item.counter_notice_due_at + SECOND,
        )

    assert refreshed(item).status == S.ACCEPTED
    assert CounterNotice.objects.count() == 0


def test_brand_rejecting_a_counter_notice_needs_evidence(counter_noticed, reporter):
    with pytest.raises(ValidationError) as excinfo:
        services.item_brand_answer(item_id=counter_noticed.pk, actor=reporter, accept=False, note="No.")

    assert list(excinfo.value.message_dict) == ["evidence"]
    assert refreshed(counter_noticed).status == S.COUNTER_NOTICED
    assert counter_noticed.counter_notices.get().answer == CounterNoticeAnswer.PENDING


def test_brand_rejecting_with_evidence_upholds_the_removal_and_strikes(counter_noticed, reporter, seller_listing):
    services.item_brand_answer(
        item_id=counter_noticed.pk, actor=reporter, accept=False, note="Test purchase.", evidence=[demo_evidence()]
    )

    item = refreshed(counter_noticed)
    assert item.status == S.UPHELD
    assert item.brand_answer_due_at is None
    notice = item.counter_notices.get()
    assert (notice.answer, notice.answered_by, notice.answer_note) == (
        CounterNoticeAnswer.REJECTED,
        reporter,
        "Test purchase.",
    )
    assert list(notice.brand_evidence.values_list("item_id", flat=True)) == [item.pk]
    strike = Strike.objects.get()
    assert (strike.seller_id, strike.source_item_id, strike.reason_code) == (
        seller_listing.seller_id,
        item.pk,
        "counterfeit",
    )
    assert refreshed(seller_listing).status == ListingStatus.REMOVED


def test_brand_accepting_a_counter_notice_reinstates_the_listing(counter_noticed, reporter, seller_listing):
    services.item_brand_answer(item_id=counter_noticed.pk, actor=reporter, accept=True, note="Invoice is valid.")

    item = refreshed(counter_noticed)
    assert item.status == S.REINSTATED
    assert item.counter_notices.get().answer == CounterNoticeAnswer.ACCEPTED
    assert refreshed(seller_listing).status == ListingStatus.REINSTATED
    assert Strike.objects.count() == 0


def test_brand_answer_after_the_deadline_is_refused(counter_noticed, reporter):
    CaseItem.objects.filter(pk=counter_noticed.pk).update(brand_answer_due_at=timezone.now() - SECOND)

    with pytest.raises(TransitionNotAllowed) as excinfo:
        services.item_brand_answer(item_id=counter_noticed.pk, actor=reporter, accept=True)

    assert "has passed" in str(excinfo.value)
    assert refreshed(counter_noticed).status == S.COUNTER_NOTICED
    assert counter_noticed.counter_notices.get().answer == CounterNoticeAnswer.PENDING


# --- finalising and strikes -----------------------------------------------------------------------


@pytest.fixture
def accepted_with_seller(file_case, seller_listing, moderator, reporter):
    def make(reason_code: str = "counterfeit") -> CaseItem:
        item = file_case(listing_urls=[seller_listing.url], reason_code=reason_code).items.get()
        return drive_item_to(item, S.ACCEPTED, moderator=moderator, brand_user=reporter)

    return make


def test_finalise_before_the_counter_notice_deadline_is_refused(accepted_with_seller):
    item = accepted_with_seller()
    with pytest.raises(TransitionNotAllowed):
        services.item_finalise(item_id=item.pk)
    with pytest.raises(TransitionNotAllowed):
        services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at - SECOND)
    assert refreshed(item).status == S.ACCEPTED
    assert Strike.objects.count() == 0


@pytest.mark.parametrize(("reason_code", "strikes"), [("counterfeit", 1), ("copyright", 0)])
def test_finalise_makes_the_removal_final_and_strikes_counterfeits(
    reason_code, strikes, accepted_with_seller, seller_listing
):
    item = accepted_with_seller(reason_code)

    services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + SECOND)

    assert refreshed(item).status == S.FINAL
    assert Strike.objects.filter(seller=seller_listing.seller, source_item_id=item.pk).count() == strikes
    [event] = events("item.finalise", item)
    assert (event.actor, event.automated) == (None, True)


def test_finalise_without_a_known_seller_gives_no_strike(file_case, moderator, reporter):
    item = drive_item_to(file_case().items.get(), S.FINAL, moderator=moderator, brand_user=reporter)
    assert item.status == S.FINAL
    assert Strike.objects.count() == 0


@pytest.mark.parametrize(("policy_days", "lifetime_days"), [(30, 30), (None, 365)])
def test_strike_expiry_follows_the_active_policy(policy_days, lifetime_days, accepted_with_seller):
    if policy_days:
        PenaltyPolicy.objects.create(name="Strict", strike_lifetime_days=policy_days)
    PenaltyPolicy.objects.create(name="Old", strike_lifetime_days=7, is_active=False)
    item = accepted_with_seller()

    services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + SECOND)

    strike = Strike.objects.get()
    assert strike.expires_at - strike.issued_at == timedelta(days=lifetime_days)


def test_finalising_twice_is_refused_and_strikes_are_recorded_once(accepted_with_seller, seller_listing):
    item = accepted_with_seller()
    services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + SECOND)

    with pytest.raises(TransitionNotAllowed):
        services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + SECOND)
    again = listing_services.strike_record(
        seller_id=seller_listing.seller_id, source_item_id=item.pk, reason_code="counterfeit"
    )

    strike = Strike.objects.get()
    assert again.pk == strike.pk
    assert len(events("strike.record", strike)) == 1


# --- lapsing deadlines ----------------------------------------------------------------------------


def test_unanswered_counter_notice_lapses_into_reinstatement(counter_noticed, seller_listing):
    now = counter_noticed.brand_answer_due_at + SECOND

    services.item_lapse(item_id=counter_noticed.pk, now=now)

    item = refreshed(counter_noticed)
    assert item.status == S.REINSTATED
    assert item.appeal_until == now + RULES["APPEAL_WINDOW"]
    notice = item.counter_notices.get()
    assert (notice.answer, notice.answered_at, notice.answered_by) == (CounterNoticeAnswer.LAPSED, now, None)
    [event] = events("item.lapse", item)
    assert (event.automated, event.actor, event.from_state, event.to_state) == (
        True,
        None,
        S.COUNTER_NOTICED,
        S.REINSTATED,
    )
    assert refreshed(seller_listing).status == ListingStatus.REINSTATED
    [reinstatement] = events("listing.reinstate", seller_listing)
    assert (reinstatement.automated, reinstatement.actor) == (True, None)


def test_unanswered_clarification_lapses_into_an_incomplete_rejection(file_case, moderator, reporter):
    item = drive_item_to(file_case().items.get(), S.CLARIFICATION_REQUESTED, moderator=moderator, brand_user=reporter)

    services.item_lapse(item_id=item.pk, now=item.clarification_due_at + SECOND)

    item = refreshed(item)
    assert (item.status, item.rejection_code, item.clarification_due_at) == (S.REJECTED, "incomplete", None)
    assert item.how_to_fix == REJECTION_FIX_GUIDANCE[RejectionCode.INCOMPLETE]
    [event] = events("item.lapse", item)
    assert (event.automated, event.actor) == (True, None)


def test_lapse_before_the_deadline_is_refused(counter_noticed):
    with pytest.raises(TransitionNotAllowed):
        services.item_lapse(item_id=counter_noticed.pk, now=counter_noticed.brand_answer_due_at - SECOND)
    assert refreshed(counter_noticed).status == S.COUNTER_NOTICED


# --- appeals --------------------------------------------------------------------------------------


@pytest.fixture
def rejected(file_case, moderator, reporter):
    return drive_item_to(file_case().items.get(), S.REJECTED, moderator=moderator, brand_user=reporter)


def test_appeal_outside_the_window_is_refused(rejected):
    CaseItem.objects.filter(pk=rejected.pk).update(appeal_until=timezone.now() - SECOND)

    with pytest.raises(TransitionNotAllowed) as excinfo:
        services.item_appeal(item_id=rejected.pk, appellant=AppellantSide.BRAND, grounds="We attached proof.")

    assert "appeal window" in str(excinfo.value)
    assert Appeal.objects.count() == 0
    assert refreshed(rejected).status == S.REJECTED


def test_appeal_records_what_is_contested_and_who_decided_it(rejected, moderator, reporter):
    appeal = services.item_appeal(
        item_id=rejected.pk, appellant=AppellantSide.BRAND, grounds=" We attached proof. ", actor=reporter
    )

    assert (appeal.contested_status, appeal.original_decider, appeal.filed_by) == (S.REJECTED, moderator, reporter)
    assert (appeal.status, appeal.grounds, appeal.appellant) == (AppealStatus.OPEN, "We attached proof.", "brand")
    assert refreshed(rejected).status == S.APPEALED


def test_appeal_cannot_be_decided_by_the_original_moderator(rejected, moderator, reporter):
    appeal = services.item_appeal(item_id=rejected.pk, appellant=AppellantSide.BRAND, grounds="Proof.", actor=reporter)

    with pytest.raises(TransitionNotAllowed):
        services.item_decide_appeal(item_id=rejected.pk, actor=moderator, overturn=True, note="I was wrong.")

    assert refreshed(appeal).status == AppealStatus.OPEN
    assert refreshed(rejected).status == S.APPEALED


def test_upheld_appeal_restores_the_contested_status(rejected, lead, reporter):
    appeal = services.item_appeal(item_id=rejected.pk, appellant=AppellantSide.BRAND, grounds="Proof.", actor=reporter)

    services.item_decide_appeal(item_id=rejected.pk, actor=lead, overturn=False, note="No proof attached.")

    appeal, item = refreshed(appeal, rejected)
    assert (appeal.status, appeal.decided_by, appeal.decision_note) == (
        AppealStatus.UPHELD,
        lead,
        "No proof attached.",
    )
    assert (item.status, item.rejection_code) == (S.REJECTED, RejectionCode.INSUFFICIENT_EVIDENCE)
    assert refreshed(item.listing).status == ListingStatus.ACTIVE


def test_overturned_rejection_accepts_and_removes_the_listing(rejected, lead, reporter):
    services.item_appeal(item_id=rejected.pk, appellant=AppellantSide.BRAND, grounds="Proof.", actor=reporter)

    appeal = services.item_decide_appeal(item_id=rejected.pk, actor=lead, overturn=True, note="The proof holds.")

    item = refreshed(rejected)
    assert appeal.status == AppealStatus.OVERTURNED
    assert (item.status, item.rejection_code, item.decided_by) == (S.ACCEPTED, "", lead)
    assert item.counter_notice_due_at == item.decided_at + RULES["COUNTER_NOTICE_WINDOW"]
    assert refreshed(item.listing).status == ListingStatus.REMOVED
    [removal] = events("listing.remove", item.listing)
    assert removal.actor == lead


def test_overturned_final_removal_reinstates_and_revokes_the_strike(accepted_with_seller, seller_listing, lead):
    item = accepted_with_seller()
    services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + SECOND)
    assert Strike.objects.active().count() == 1
    services.item_appeal(item_id=item.pk, appellant=AppellantSide.SELLER, grounds="Genuine goods, invoice.")

    services.item_decide_appeal(item_id=item.pk, actor=lead, overturn=True, note="The invoice is genuine.")

    assert refreshed(item).status == S.REINSTATED
    assert refreshed(seller_listing).status == ListingStatus.REINSTATED
    strike = Strike.objects.get()
    assert strike.revoked_at is not None
    assert strike.revoke_reason == "Appeal overturned the removal"
    assert Strike.objects.active().count() == 0


# --- database constraints back the services -------------------------------------------------------


def test_db_refuses_a_second_open_item_for_the_same_brand_and_listing(file_case, brand, reporter):
    item = file_case().items.get()
    other_case = Case.objects.create(
        brand=brand, filed_by=reporter, lane="standard", reason_code="counterfeit", explanation="Again."
    )

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        CaseItem.objects.create(
            case=other_case,
            brand=brand,
            listing=item.listing,
            lane="standard",
            reason_code="counterfeit",
            sla_due_at=timezone.now(),
        )
    assert "item_one_open_report_per_brand" in str(excinfo.value)


def test_db_refuses_an_appeal_decided_by_its_original_decider(rejected, moderator, lead):
    def decided_appeal(decider):
        return Appeal.objects.create(
            item=rejected,
            appellant=AppellantSide.BRAND,
            grounds="Proof.",
            contested_status=S.REJECTED,
            original_decider=moderator,
            status=AppealStatus.UPHELD,
            decided_at=timezone.now(),
            decided_by=decider,
        )

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        decided_appeal(moderator)
    assert "appeal_decided_by_someone_else" in str(excinfo.value)
    assert decided_appeal(lead).decided_by == lead


def test_db_refuses_a_rejected_item_without_a_code(rejected):
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        CaseItem.objects.filter(pk=rejected.pk).update(rejection_code="")
    assert "item_rejected_has_code" in str(excinfo.value)
    assert refreshed(rejected).rejection_code == RejectionCode.INSUFFICIENT_EVIDENCE


def test_db_refuses_creating_a_rejected_item_without_a_code(file_case, brand, reporter, marketplace):
    case = file_case()
    listing = factories.ListingFactory(marketplace=marketplace)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        CaseItem.objects.create(
            case=case,
            brand=brand,
            listing=listing,
            lane="standard",
            reason_code="counterfeit",
            sla_due_at=timezone.now(),
            status=S.REJECTED,
            decided_at=timezone.now(),
            rejection_code="",
        )
    assert "item_rejected_has_code" in str(excinfo.value)
