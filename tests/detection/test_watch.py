"""Brand watch: saved searches matched over real listing rows, the high-water mark, the cap, the brand's
decisions (audited), one-click filing, the webhook event and the daily digest e-mail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from brands.choices import Role
from cases.choices import ItemStatus
from core.audit.models import AuditEvent
from detection.choices import WatchMatchState
from detection.models import WatchDigest, WatchMatch, WatchSearch
from detection.services import watch
from detection.services.hashes import listing_image_hashes_replace
from detection.services.watch import (
    WatchCriteria,
    watch_digest_send,
    watch_match_file,
    watch_matches_set_state,
    watch_search_create,
    watch_search_run,
    watch_search_update,
)
from integrations.choices import EventType
from integrations.models import WebhookDelivery, WebhookEvent
from listings.models import Listing
from tests import factories
from tests.detection.conftest import ORIGINAL_HASH, flip

pytestmark = pytest.mark.django_db

#: Runs look only at listings created SETTLE ago: tests run "a few minutes later".
LATER = timedelta(minutes=10)


@pytest.fixture
def listing(marketplace):
    """listing(title, price="30.00", seller=None, hashes=(), of=marketplace) → an active listing."""
    numbers = iter(range(1, 100_000))

    def make(title: str, price: str | None = "30.00", seller=None, hashes=(), of=None) -> Listing:
        market = of or marketplace
        n = next(numbers)
        made = factories.ListingFactory(
            marketplace=market,
            external_id=f"W{n}",
            url=f"https://{market.hosts[0]}/item/W{n}",
            title=title,
            price=None if price is None else Decimal(price),
            currency="EUR",
            **({"seller": seller} if seller is not None else {}),
        )
        if hashes:
            listing_image_hashes_replace(hashes_by_listing={made.pk: list(hashes)})
        return made

    return make


@pytest.fixture
def search(brand, reporter):
    def make(**criteria) -> WatchSearch:
        return watch_search_create(
            brand=brand, actor=reporter, criteria=WatchCriteria(name=criteria.pop("name", "Totes"), **criteria)
        )

    return make


def run(search: WatchSearch) -> list[WatchMatch]:
    ids = watch_search_run(search_id=search.pk, now=timezone.now() + LATER)
    return list(WatchMatch.objects.filter(pk__in=ids).order_by("listing_id"))


def listings_of(matches) -> set[int]:
    return {m.listing_id for m in matches}


def test_words_match_every_word_in_any_order_and_case(search, listing):
    watch_ = search(words="acme tote")
    hit = listing("Tote bag by ACME, brown leather")
    listing("Acme wallet")
    listing("Leather tote")
    assert listings_of(run(watch_)) == {hit.pk}


def test_price_marketplace_and_seller_narrow_the_words(search, listing, marketplace):
    other_market = factories.MarketplaceFactory(slug="bazaar", hosts=["bazaar.example"])
    seller = factories.SellerFactory(marketplace=marketplace, external_id="S-WATCH", name="Bag Barn")
    cheap = listing("Acme tote", price="20.00", seller=seller)
    listing("Acme tote", price="95.00", seller=seller)  # too dear
    listing("Acme tote", price="20.00")  # another seller
    listing("Acme tote", price="20.00", of=other_market)  # another marketplace
    listing("Acme tote", price=None, seller=seller)  # no price: outside any range
    watch_ = search(
        words="acme",
        marketplace_id=marketplace.pk,
        seller_id=seller.pk,
        price_min=Decimal("10"),
        price_max=Decimal("50"),
    )
    [match] = run(watch_)
    assert match.listing_id == cheap.pk
    assert match.signals == {"matched": ["words", "marketplace", "seller", "price"], "image_distance": None}


def test_an_image_within_pdqs_threshold_matches_and_one_beyond_does_not(search, listing):
    watch_ = search(image_hash=ORIGINAL_HASH.upper())
    near = listing("Anything", hashes=["0" * 64, flip(ORIGINAL_HASH, 20)])
    listing("Anything else", hashes=[flip(ORIGINAL_HASH, 40)])
    listing("No images")
    [match] = run(watch_)
    assert match.listing_id == near.pk
    assert match.signals["image_distance"] == 20
    assert watch_.image_hash == ORIGINAL_HASH


def test_a_search_matches_only_listings_that_appear_after_it_and_never_twice(search, listing):
    before = listing("Acme tote old")
    Listing.objects.filter(pk=before.pk).update(created_at=timezone.now() - timedelta(hours=1))
    watch_ = search(words="acme")
    first = listing("Acme tote first")
    assert listings_of(run(watch_)) == {first.pk}
    assert run(watch_) == []
    second = listing("Acme tote second")
    assert listings_of(run(watch_)) == {second.pk}
    watch_.refresh_from_db()
    assert watch_.last_listing_id == second.pk
    assert WatchMatch.objects.filter(search=watch_).count() == 2


def test_a_listing_too_new_to_be_settled_waits_for_the_next_run(search, listing):
    watch_ = search(words="acme")
    fresh = listing("Acme tote")
    assert watch_search_run(search_id=watch_.pk) == []  # created just now: a later run takes it
    assert listings_of(run(watch_)) == {fresh.pk}


def test_a_run_records_at_most_the_cap_and_says_so(search, listing, monkeypatch):
    monkeypatch.setattr(watch, "MATCH_CAP", 3)
    watch_ = search(words="acme")
    made = [listing(f"Acme tote {n}") for n in range(5)]
    assert listings_of(run(watch_)) == {m.pk for m in made[:3]}
    watch_.refresh_from_db()
    assert watch_.last_run_capped
    assert watch_.last_listing_id == made[-1].pk  # the rest of the window is skipped, not matched later


def test_the_run_walks_id_ranges(search, listing, monkeypatch):
    monkeypatch.setattr(watch, "RUN_STEP", 2)
    watch_ = search(words="acme")
    made = [listing(f"Acme tote {n}") if n % 2 else listing(f"Other {n}") for n in range(7)]
    assert listings_of(run(watch_)) == {m.pk for m in made if "Acme" in m.title}


def test_the_words_condition_is_served_by_the_title_trigram_index(search, listing):
    """The test table is too small for the planner to prefer an index unprompted: scans are priced out."""
    watch_ = search(words="acme tote")
    for n in range(50):
        listing(f"Filler {n}")
    assert not watch.watch_candidates_query(watch_, 0, 10**12).exists()
    query = Listing.objects.filter(*watch.words_conditions(watch_.words))
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # the id range's index scan: not what is tested
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "listing_title_trgm" in plan


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"words": "acme", "price_min": Decimal("50"), "price_max": Decimal("10")}, "price_max"),
        ({"image_hash": "abc"}, "image_hash"),
        ({"image_hash": "g" * 64}, "image_hash"),
        ({}, "words"),
        ({"words": "ab"}, "words"),
        ({"words": "acme", "price_min": Decimal("-1")}, "price_min"),
    ],
)
def test_bad_criteria_are_refused_naming_the_field(brand, reporter, criteria, field):
    with pytest.raises(ValidationError) as refused:
        watch_search_create(brand=brand, actor=reporter, criteria=WatchCriteria(name="Bad", **criteria))
    assert field in refused.value.error_dict
    assert not WatchSearch.objects.exists()


def test_a_seller_of_another_marketplace_is_refused(brand, reporter, marketplace):
    other = factories.SellerFactory(marketplace=factories.MarketplaceFactory(slug="elsewhere"))
    with pytest.raises(ValidationError) as refused:
        watch_search_create(
            brand=brand,
            actor=reporter,
            criteria=WatchCriteria(name="S", marketplace_id=marketplace.pk, seller_id=other.pk),
        )
    assert "seller" in refused.value.error_dict


def test_saving_a_search_is_audited_and_a_paused_search_restarts_from_now(search, listing, reporter):
    watch_ = search(words="acme")
    assert AuditEvent.objects.filter(action="watch.create", target_id=watch_.pk, actor=reporter).exists()
    paused = watch_search_update(
        search=watch_, actor=reporter, criteria=WatchCriteria(name="Totes", words="acme", active=False)
    )
    assert watch_search_run(search_id=paused.pk, now=timezone.now() + LATER) == []
    missed = listing("Acme tote while paused")
    Listing.objects.filter(pk=missed.pk).update(created_at=timezone.now() - timedelta(hours=1))
    resumed = watch_search_update(search=paused, actor=reporter, criteria=WatchCriteria(name="Totes", words="acme"))
    assert resumed.last_listing_id >= missed.pk
    assert run(resumed) == []
    assert AuditEvent.objects.filter(action="watch.update", target_id=watch_.pk).count() == 2


def test_marking_seen_and_dismissing_are_audited_per_match(search, listing, brand, reporter):
    watch_ = search(words="acme")
    listing("Acme tote"), listing("Acme bag")
    first, second = run(watch_)
    assert watch_matches_set_state(brand=brand, match_ids=[first.pk, second.pk], state="seen", actor=reporter) == 2
    assert watch_matches_set_state(brand=brand, match_ids=[first.pk], state="dismissed", actor=reporter) == 1
    first.refresh_from_db()
    assert (first.state, first.decided_by) == (WatchMatchState.DISMISSED, reporter)
    events = AuditEvent.objects.filter(target_id__in=[first.pk, second.pk], action__startswith="watch_match.")
    assert sorted(events.values_list("target_id", "from_state", "to_state")) == sorted(
        [(first.pk, "new", "seen"), (second.pk, "new", "seen"), (first.pk, "seen", "dismissed")]
    )
    assert {e.actor_id for e in events} == {reporter.pk}


def test_another_brands_matches_are_not_changed(search, listing, other_brand, reporter):
    watch_ = search(words="acme")
    listing("Acme tote")
    [match] = run(watch_)
    assert watch_matches_set_state(brand=other_brand, match_ids=[match.pk], state="seen", actor=reporter) == 0
    match.refresh_from_db()
    assert match.state == WatchMatchState.NEW


def test_one_click_files_the_match_as_a_case_with_the_listing(search, listing, brand, reporter, right):
    factories.ProgramMembershipFactory(brand=brand)  # the expedited lane: no evidence needed
    watch_ = search(words="acme")
    found = listing("Acme tote")
    [match] = run(watch_)
    case = watch_match_file(match_id=match.pk, actor=reporter)
    item = case.items.get()
    assert item.listing_id == found.pk and item.status == ItemStatus.SUBMITTED
    assert case.filed_by == reporter and "watch search 'Totes'" in case.explanation
    match.refresh_from_db()
    assert (match.state, match.filed_case) == (WatchMatchState.FILED, case)
    assert AuditEvent.objects.filter(action="watch_match.file", target_id=match.pk, to_state="filed").exists()
    with pytest.raises(watch.MatchAlreadyFiled):
        watch_match_file(match_id=match.pk, actor=reporter)


def test_each_new_match_is_a_watch_match_webhook_event_for_the_brands_endpoints_only(
    search, listing, brand, marketplace
):
    factories_endpoint = {"url": "https://hooks.acme.test/", "secret": "whsec_x"}
    brand_endpoint = brand.webhook_endpoints.create(**factories_endpoint)
    marketplace.webhook_endpoints.create(url="https://hooks.shopnow.test/", secret="whsec_y")
    watch_ = search(words="acme")
    found = listing("Acme tote", price="12.50")
    [match] = run(watch_)
    event = WebhookEvent.objects.get(type=EventType.WATCH_MATCH)
    assert event.brand_id == brand.pk and event.marketplace_id is None
    assert event.payload["data"]["match"] | {} == {
        "id": match.pk,
        "brand_id": brand.pk,
        "search_id": watch_.pk,
        "search_name": "Totes",
        "state": "new",
        "matched": ["words"],
        "image_distance": None,
    }
    assert event.payload["data"]["listing"]["url"] == found.url
    assert event.payload["data"]["listing"]["price"] == "12.50"
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [brand_endpoint.pk]


def test_a_search_without_webhook_notification_writes_no_event(search, listing):
    watch_ = search(words="acme", notify_webhook=False)
    listing("Acme tote")
    assert len(run(watch_)) == 1
    assert not WebhookEvent.objects.filter(type=EventType.WATCH_MATCH).exists()


def test_the_digest_goes_to_subscribed_members_once_a_day(
    search, listing, brand, reporter, member_of, django_capture_on_commit_callbacks
):
    watcher = search(words="acme")  # the reporter subscribed when saving it
    unsubscribed = member_of(Role.OWNER)
    former = factories.MembershipFactory(brand=brand, role=Role.VIEWER, is_active=False).user
    watcher.subscribers.add(former)
    quiet = watch_search_create(
        brand=brand, actor=unsubscribed, criteria=WatchCriteria(name="Wallets", words="wallet"), digest=False
    )
    listing("Acme tote brown", price="19.99")
    listing("Acme wallet")  # both searches find this one
    run(watcher), run(quiet)
    mail.outbox.clear()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert watch_digest_send(brand_id=brand.pk, now=now) == 1
    [message] = mail.outbox
    assert message.to == [reporter.email]
    assert message.subject == "MarketSafe: 2 new brand watch matches for Acme Leather"
    assert 'Totes ("acme"):' in message.body
    assert "- Acme tote brown (ShopNow" in message.body and "19.99 EUR" in message.body
    assert "Wallets" not in message.body
    assert "/b/acme/watch/matches/?search=" in message.body
    # Later the same day, new matches wait for tomorrow's digest.
    listing("Acme tote again")
    run(watcher)
    with django_capture_on_commit_callbacks(execute=True):
        assert watch_digest_send(brand_id=brand.pk, now=now + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert watch_digest_send(brand_id=brand.pk, now=now + timedelta(days=1)) == 1
    assert "Acme tote again" in mail.outbox[1].body and "Acme tote brown" not in mail.outbox[1].body
    assert WatchDigest.objects.filter(brand=brand).count() == 2


def test_matches_handled_before_the_digest_are_not_in_it(search, listing, brand, reporter):
    watcher = search(words="acme")
    listing("Acme tote")
    [match] = run(watcher)
    watch_matches_set_state(brand=brand, match_ids=[match.pk], state="dismissed", actor=reporter)
    mail.outbox.clear()
    assert watch_digest_send(brand_id=brand.pk) == 0
    assert mail.outbox == []
    match.refresh_from_db()
    assert match.digested_at is None  # nothing to tell today: no digest row, nothing marked
