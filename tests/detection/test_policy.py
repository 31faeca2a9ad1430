"""The brand's stay-down policy: its defaults are the old behaviour, its switches change what matching
keeps and what is filed automatically (program membership still required), and owners edit it on a page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from brands.choices import Role
from core.audit.models import AuditEvent
from detection.choices import CandidateStatus, Strength
from detection.models import ReListingCandidate, StayDownPolicy
from detection.selectors import brand_policy
from detection.services.candidates import candidates_file_strong
from detection.services.matching import listings_match
from detection.services.policy import policy_update
from tests import factories
from tests.detection.conftest import ORIGINAL_HASH, flip

pytestmark = pytest.mark.django_db

STRONG_TITLE = "Acme Leather Classic Tote Bag Brown"
WEAK_TITLE = "Acme Leather Classic Tote Bag Brown Genuine"


@pytest.fixture
def member(brand):
    return factories.ProgramMembershipFactory(brand=brand)


def strong_match(new_listing, seller, bits: int = 3) -> ReListingCandidate:
    listing = new_listing(STRONG_TITLE, seller=seller, hashes=[flip(ORIGINAL_HASH, bits)])
    candidates_file_strong(candidate_ids=listings_match(listing_ids=[listing.pk]))
    return ReListingCandidate.objects.get(listing=listing)


def test_a_brand_without_a_policy_has_the_defaults(brand):
    policy = brand_policy(brand_id=brand.pk)
    assert policy.pk is None
    assert (policy.auto_file, policy.auto_file_min_score, policy.list_weak) == (True, 0.85, True)


def test_every_strong_match_reaches_the_default_minimum(removed_item, new_listing, seller, member):
    """The weakest strong match (an image at PDQ's threshold, the same seller) is filed with the defaults."""
    candidate = strong_match(new_listing, seller, bits=31)
    assert candidate.strength == Strength.STRONG
    assert candidate.score >= StayDownPolicy().auto_file_min_score
    assert candidate.status == CandidateStatus.FILED and candidate.automated


def test_auto_filing_off_leaves_strong_matches_in_the_list(removed_item, new_listing, seller, member, brand, owner):
    policy_update(brand_id=brand.pk, actor=owner, auto_file=False, auto_file_min_score=0.85, list_weak=True)
    candidate = strong_match(new_listing, seller)
    assert candidate.strength == Strength.STRONG
    assert candidate.status == CandidateStatus.OPEN and not candidate.automated


def test_a_minimum_above_the_score_leaves_it_in_the_list(removed_item, new_listing, seller, member, brand, owner):
    policy_update(brand_id=brand.pk, actor=owner, auto_file=True, auto_file_min_score=0.99, list_weak=True)
    far = strong_match(new_listing, seller, bits=20)  # 1 - 20/128 + 0.1 = 0.94
    assert far.status == CandidateStatus.OPEN
    near = strong_match(new_listing, seller, bits=0)
    assert near.status == CandidateStatus.FILED


def test_auto_filing_still_needs_the_program(removed_item, new_listing, seller, brand, owner):
    policy_update(brand_id=brand.pk, actor=owner, auto_file=True, auto_file_min_score=0.5, list_weak=True)
    assert strong_match(new_listing, seller).status == CandidateStatus.OPEN


def test_weaker_matches_are_not_kept_when_the_brand_says_so(removed_item, new_listing, marketplace, brand, owner):
    policy_update(brand_id=brand.pk, actor=owner, auto_file=True, auto_file_min_score=0.85, list_weak=False)
    stranger = factories.SellerFactory(marketplace=marketplace, name="Someone Else")
    weak = new_listing(WEAK_TITLE, seller=stranger)
    listings_match(listing_ids=[weak.pk])
    assert not ReListingCandidate.objects.filter(listing=weak).exists()
    policy_update(brand_id=brand.pk, actor=owner, auto_file=True, auto_file_min_score=0.85, list_weak=True)
    listings_match(listing_ids=[weak.pk])
    assert ReListingCandidate.objects.get(listing=weak).strength == Strength.WEAK


def test_a_change_is_audited_with_before_and_after_and_a_repeat_records_nothing(brand, owner):
    policy_update(brand_id=brand.pk, actor=owner, auto_file=False, auto_file_min_score=0.9, list_weak=True)
    event = AuditEvent.objects.get(action="policy.update")
    assert event.actor == owner and event.brand_id == brand.pk
    assert event.data["before"] == {"auto_file": True, "auto_file_min_score": 0.85, "list_weak": True}
    assert event.data["after"] == {"auto_file": False, "auto_file_min_score": 0.9, "list_weak": True}
    policy_update(brand_id=brand.pk, actor=owner, auto_file=False, auto_file_min_score=0.9, list_weak=True)
    assert AuditEvent.objects.filter(action="policy.update").count() == 1


def test_a_minimum_out_of_range_is_refused(brand, owner):
    with pytest.raises(ValidationError) as refused:
        policy_update(brand_id=brand.pk, actor=owner, auto_file=True, auto_file_min_score=1.5, list_weak=True)
    assert "auto_file_min_score" in refused.value.message_dict
    assert not StayDownPolicy.objects.exists()


def test_owners_edit_it_on_a_page_that_says_whether_the_program_applies(client, brand, owner, member_of):
    url = reverse("detection:policy", kwargs={"brand_slug": brand.slug})
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "Automatic filing needs an active MarketSafe membership" in page
    response = client.post(url, {"auto_file_min_score": "0.95", "list_weak": "on"})
    assert response.status_code == 302
    policy = StayDownPolicy.objects.get(brand=brand)
    assert (policy.auto_file, policy.auto_file_min_score, policy.list_weak) == (False, 0.95, True)
    refused = client.post(url, {"auto_file": "on", "auto_file_min_score": "2", "list_weak": "on"})
    assert refused.status_code == 200 and "error-summary" in refused.content.decode()
    factories.ProgramMembershipFactory(brand=brand)
    assert "is a MarketSafe member" in client.get(url).content.decode()
    client.force_login(member_of(Role.REPORTER))
    assert client.get(url).status_code == 403
