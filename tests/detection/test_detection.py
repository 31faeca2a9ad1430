"""Stay-down detection against the real database: the bank fills when a removal is upheld, listings match
it through the indexes, and candidates are filed (automatically when strong, by one click otherwise)."""

import random
from datetime import date, timedelta

import pytest
from django.db import connection

from brands.models import IPRight
from cases import services as case_services
from cases.choices import ItemStatus
from cases.models import Evidence
from core.audit.models import AuditEvent
from detection import hashing
from detection.choices import CandidateStatus, Strength
from detection.models import FingerprintImageHash, ListingImageHash, ReListingCandidate, RemovalFingerprint
from detection.services import bank, matching
from detection.services.candidates import CandidateNotOpen, candidate_dismiss, candidate_file, candidates_file_strong
from detection.services.matching import listings_match
from detection.text import normalise_title, title_key
from tests import factories
from tests.detection.conftest import ORIGINAL_HASH, flip

pytestmark = pytest.mark.django_db


# --- hashes and titles ------------------------------------------------------------------------------


def test_every_hash_within_the_threshold_shares_a_probe_key_with_the_bank_slots():
    rng = random.Random(5)
    for trial in range(300):
        bank = f"{rng.getrandbits(256):064x}"
        near = flip(bank, rng.randint(0, hashing.MAX_DISTANCE), seed=trial)
        assert hashing.distance(bank, near) <= hashing.MAX_DISTANCE
        assert set(hashing.slots(near)) & set(hashing.neighbourhood(bank)), (bank, near)


def test_a_malformed_pdq_hash_is_refused():
    for bad in ("", "abc", "g" * 64, "0" * 63, "0" * 65):
        with pytest.raises(ValueError):
            hashing.parse_pdq(bad)
    assert hashing.parse_pdq("AB" * 32) == "ab" * 32


def test_the_indexed_title_drops_the_brands_own_name_words():
    assert title_key("acme leather tote acme bag", "ACME Corp.") == "leather tote bag"
    assert title_key("corporate bag", "Acme Corp") == "corporate bag"  # whole words only


def test_titles_lose_case_punctuation_and_homoglyphs():
    assert normalise_title("ACME  Leather—Tote!") == "acme leather tote"
    assert normalise_title("Асме Lеаther Tоte") == "acme leather tote"  # noqa: RUF001 (Cyrillic letters on purpose)


# --- the bank ---------------------------------------------------------------------------------------


def test_a_final_removal_joins_the_brand_bank_with_its_image_hash(removed_item, brand, seller):
    fingerprint = RemovalFingerprint.objects.get(source_item=removed_item)
    assert fingerprint.brand == brand
    assert fingerprint.case_id == removed_item.case_id
    assert fingerprint.seller == seller
    assert fingerprint.seller_identifiers == ["cheapbagsoutlet"]
    assert fingerprint.title_normalised == "acme leather classic tote bag brown genuine"
    assert fingerprint.title_key == "classic tote bag brown genuine"  # without the brand's name, "Acme Leather"
    assert fingerprint.enabled
    image = FingerprintImageHash.objects.get(fingerprint=fingerprint)
    assert image.hash == ORIGINAL_HASH
    assert image.slots == hashing.neighbourhood(ORIGINAL_HASH)
    with connection.cursor() as cursor:  # stored as bit(256): bit_count gives the Hamming distance
        cursor.execute(
            "SELECT bit_count(hash # %s::bit(256)) FROM detection_fingerprintimagehash WHERE id = %s",
            [hashing.to_bits(flip(ORIGINAL_HASH, 7)), image.pk],
        )
        assert cursor.fetchone()[0] == 7


def test_an_accepted_removal_is_not_banked_until_it_is_final(file_case, moderator):
    item = file_case().items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    assert not RemovalFingerprint.objects.filter(source_item_id=item.pk).exists()


def test_a_withdrawn_removal_disables_its_bank_entry(removed_item, reporter):
    case_services.item_withdraw(item_id=removed_item.pk, actor=reporter, reason="Licensed after all")
    fingerprint = RemovalFingerprint.objects.get(source_item=removed_item)
    assert not fingerprint.enabled
    assert fingerprint.disabled_reason == "Item withdrawn"


def test_the_bank_entry_expires_with_the_right(removed_item, right, new_listing, seller):
    fingerprint = RemovalFingerprint.objects.get(source_item=removed_item)
    right.refresh_from_db()
    assert fingerprint.expires_at is None or fingerprint.expires_at.date() == right.valid_until
    RemovalFingerprint.objects.filter(pk=fingerprint.pk).update(expires_at="2001-01-01T00:00:00Z")
    listing = new_listing("Acme Leather Classic Tote Bag Brown Genuine", seller=seller, hashes=[ORIGINAL_HASH])
    assert listings_match(listing_ids=[listing.pk]) == []
    assert not ReListingCandidate.objects.exists()


def test_expiry_is_the_end_of_the_last_right_the_case_rests_on(file_case, brand, moderator):
    short = factories.IPRightFactory(brand=brand, valid_until=date.today() + timedelta(days=30))
    longer = factories.IPRightFactory(brand=brand, valid_until=date.today() + timedelta(days=90))
    item = file_case(rights=[short, longer]).items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    item.refresh_from_db()
    case_services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + timedelta(seconds=1))
    assert RemovalFingerprint.objects.get(source_item=item).expires_at.date() == longer.valid_until


# --- matching ---------------------------------------------------------------------------------------


def test_a_relisting_by_the_same_seller_with_a_near_image_is_a_strong_candidate(removed_item, new_listing, seller):
    listing = new_listing("Acme Leather Tote Bag Classic Brown", seller=seller, hashes=[flip(ORIGINAL_HASH, 20)])
    strong = listings_match(listing_ids=[listing.pk])
    candidate = ReListingCandidate.objects.get(listing=listing)
    assert strong == [candidate.pk]
    assert candidate.strength == Strength.STRONG
    assert candidate.fingerprint.source_item_id == removed_item.pk
    assert candidate.signals["image_distance"] == 20
    assert candidate.signals["same_seller"] is True
    assert set(candidate.signals["matched"]) >= {"image", "seller"}
    assert candidate.score >= 0.9
    # Idempotent: matching again creates nothing and reports nothing new to file.
    assert listings_match(listing_ids=[listing.pk]) == []
    assert ReListingCandidate.objects.filter(listing=listing).count() == 1


def test_an_image_beyond_the_threshold_and_another_title_do_not_match(removed_item, new_listing, seller):
    listing = new_listing("Garden hose 20 m green", seller=seller, hashes=[flip(ORIGINAL_HASH, 40)])
    assert listings_match(listing_ids=[listing.pk]) == []
    assert not ReListingCandidate.objects.exists()


def test_a_homoglyph_title_by_a_new_seller_is_a_weak_candidate(removed_item, new_listing, marketplace):
    stranger = factories.SellerFactory(marketplace=marketplace, name="Fresh Account 2")
    listing = new_listing("Асме Lеаther Classic Tote Bag Brown Genuine!!", seller=stranger)  # noqa: RUF001
    assert listings_match(listing_ids=[listing.pk]) == []
    candidate = ReListingCandidate.objects.get(listing=listing)
    assert candidate.strength == Strength.WEAK
    assert candidate.signals["matched"] == ["title"]
    assert candidate.signals["image_distance"] is None


def test_a_new_account_under_the_same_shop_name_is_a_linked_seller(removed_item, new_listing, marketplace):
    twin = factories.SellerFactory(marketplace=marketplace, external_id="S-NEW", name="Cheap-Bags Outlet")
    listing = new_listing("Acme Leather Classic Tote Bag Brown Genuine", seller=twin)
    listings_match(listing_ids=[listing.pk])
    candidate = ReListingCandidate.objects.get(listing=listing)
    assert candidate.signals["linked_seller"] is True
    assert candidate.strength == Strength.WEAK  # only the same account is strong


def test_a_look_alike_of_another_product_of_the_brand_is_not_a_candidate(removed_item, new_listing, seller):
    listing = new_listing("Acme Leather Slim Wallet Black Card Holder", seller=seller)
    listings_match(listing_ids=[listing.pk])
    assert not ReListingCandidate.objects.exists()


def test_the_removed_listing_itself_is_not_its_own_relisting(removed_item):
    removed_item.listing.__class__.objects.filter(pk=removed_item.listing_id).update(status="active")
    assert listings_match(listing_ids=[removed_item.listing_id]) == []
    assert not ReListingCandidate.objects.exists()


def test_the_title_lookup_uses_the_trigram_index_even_on_a_small_bank(removed_item):
    """The matcher's own statement, with its own settings: a sequential scan of the bank per listing would
    be 40 times slower at a few hundred entries (docs/performance.md)."""
    with connection.cursor() as cursor:
        cursor.execute(matching._TITLE_SETTINGS, [str(matching.TITLE_RETRIEVE)])
        cursor.execute(
            "EXPLAIN " + matching._TITLE_SQL,
            {"ids": [1, 2], "titles": ["acme leather tote", "garden hose"], "limit": matching.TITLE_LIMIT},
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "detection_fp_title_key_trgm" in plan and "Seq Scan on detection_removalfingerprint" not in plan


def test_the_matchers_conditions_are_served_by_the_gin_indexes(removed_item):
    """The conditions the matcher puts on the bank tables (`h.slots && keys`, `f.title_key % title`)
    can be answered by their GIN indexes. The test bank is too small for the planner to prefer an index
    unprompted, so scans are priced out; the benchmark's own plans run at its scale."""
    assert "h.slots && q.keys::integer[]" in matching._IMAGE_SQL
    assert "f.title_key %% q.title" in matching._TITLE_SQL
    keys = hashing.slots(flip(ORIGINAL_HASH, 3))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            "EXPLAIN SELECT fingerprint_id FROM detection_fingerprintimagehash h WHERE h.slots && %s", [keys]
        )
        image_plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute(
            "EXPLAIN SELECT id FROM detection_removalfingerprint f WHERE f.title_key %% %s AND f.enabled",
            ["acme leather tote"],
        )
        title_plan = " ".join(row[0] for row in cursor.fetchall())
    assert "detection_fp_hash_slots" in image_plan
    assert "detection_fp_title_key_trgm" in title_plan


# --- candidates -------------------------------------------------------------------------------------


@pytest.fixture
def expedited(brand):
    return factories.ProgramMembershipFactory(brand=brand)


def test_a_strong_candidate_is_filed_automatically_in_the_expedited_lane(
    removed_item, new_listing, seller, expedited, reporter
):
    listing = new_listing("Acme Leather Classic Tote Bag Brown", seller=seller, hashes=[flip(ORIGINAL_HASH, 3)])
    strong = listings_match(listing_ids=[listing.pk])
    assert candidates_file_strong(candidate_ids=strong) == 1
    candidate = ReListingCandidate.objects.get(listing=listing)
    assert candidate.status == CandidateStatus.FILED
    assert candidate.automated
    item = candidate.filed_item
    assert item.listing == listing
    assert item.lane == "expedited"
    assert item.status == ItemStatus.SUBMITTED
    assert candidate.filed_case.explanation.startswith(
        f"Re-listing of a listing removed under case #{removed_item.case_id}"
    )
    event = AuditEvent.objects.get(action="candidate.file", target_id=candidate.pk)
    assert event.automated and event.actor is None
    # Filing again (a repeated message) files nothing more.
    assert candidates_file_strong(candidate_ids=strong) == 0
    # The brand withdraws the automatic filing: the candidate says so.
    case_services.item_withdraw(item_id=item.pk, actor=reporter, reason="Our own stock")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.WITHDRAWN


def test_a_strong_candidate_waits_in_the_list_outside_the_expedited_lane(removed_item, new_listing, seller):
    listing = new_listing("Acme Leather Classic Tote Bag Brown", seller=seller, hashes=[ORIGINAL_HASH])
    strong = listings_match(listing_ids=[listing.pk])
    assert candidates_file_strong(candidate_ids=strong) == 0
    assert ReListingCandidate.objects.get(listing=listing).status == CandidateStatus.OPEN


def test_one_click_files_a_weak_candidate_with_the_earlier_evidence(removed_item, new_listing, marketplace, reporter):
    stranger = factories.SellerFactory(marketplace=marketplace, name="Someone Else")
    listing = new_listing("Acme Leather Classic Tote Bag Brown Genuine", seller=stranger)
    listings_match(listing_ids=[listing.pk])
    candidate = ReListingCandidate.objects.get(listing=listing)
    case = candidate_file(candidate_id=candidate.pk, actor=reporter)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.FILED and not candidate.automated
    assert case.filed_by == reporter
    assert list(case.rights.all()) == list(IPRight.objects.filter(cases=removed_item.case_id))
    earlier = Evidence.objects.filter(case=removed_item.case_id)
    copied = Evidence.objects.filter(case=case)
    assert earlier.exists()
    assert sorted(copied.values_list("sha256", flat=True)) == sorted(earlier.values_list("sha256", flat=True))
    with pytest.raises(CandidateNotOpen):
        candidate_file(candidate_id=candidate.pk, actor=reporter)


def test_a_dismissed_candidate_is_audited_and_cannot_be_filed(removed_item, new_listing, marketplace, reporter):
    stranger = factories.SellerFactory(marketplace=marketplace, name="Someone Else")
    listing = new_listing("Acme Leather Classic Tote Bag Brown Genuine", seller=stranger)
    listings_match(listing_ids=[listing.pk])
    candidate = ReListingCandidate.objects.get(listing=listing)
    candidate_dismiss(candidate=candidate, actor=reporter)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DISMISSED
    assert AuditEvent.objects.filter(action="candidate.dismiss", target_id=candidate.pk, actor=reporter).exists()
    with pytest.raises(CandidateNotOpen):
        candidate_file(candidate_id=candidate.pk, actor=reporter)


def test_image_hashes_are_replaced_per_listing(new_listing):
    listing = new_listing("Anything", hashes=[ORIGINAL_HASH, flip(ORIGINAL_HASH, 1)])
    assert ListingImageHash.objects.filter(listing=listing).count() == 2
    from detection.services.hashes import listing_image_hashes_replace

    listing_image_hashes_replace(hashes_by_listing={listing.pk: [ORIGINAL_HASH.upper()]})
    assert list(ListingImageHash.objects.filter(listing=listing).values_list("hash", flat=True)) == [ORIGINAL_HASH]


def test_the_nightly_refresh_follows_a_renewed_right(file_case, brand, moderator, new_listing, seller):
    right = factories.IPRightFactory(brand=brand, valid_until=date.today() + timedelta(days=30))
    item = file_case(rights=[right]).items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    item.refresh_from_db()
    case_services.item_finalise(item_id=item.pk, now=item.counter_notice_due_at + timedelta(seconds=1))
    fingerprint = RemovalFingerprint.objects.get(source_item=item)
    expected = fingerprint.expires_at
    assert bank.bank_refresh_expiry() == 0  # the SQL agrees with the expiry set when banking
    # The right lapsed (the bank entry with it), then is renewed for a year.
    RemovalFingerprint.objects.filter(pk=fingerprint.pk).update(expires_at="2001-01-01T00:00:00Z")
    IPRight.objects.filter(pk=right.pk).update(valid_until=date.today() + timedelta(days=365))
    assert bank.bank_refresh_expiry() == 1
    fingerprint.refresh_from_db()
    assert fingerprint.expires_at.date() == date.today() + timedelta(days=365)
    assert fingerprint.expires_at.time() == expected.time()
    assert bank.bank_refresh_expiry() == 0
