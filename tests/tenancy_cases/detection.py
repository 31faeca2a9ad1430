"""Tenancy cases of the brand's possible re-listings: the list (every role), filing and dismissing a
candidate (owners and reporters; viewers 403), the stay-down policy (owners). Another brand's candidate
answers 404."""

from itertools import count
from typing import Any

from brands.choices import Role
from cases import services
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from detection.models import ReListingCandidate, RemovalFingerprint, StayDownPolicy
from detection.services.matching import Signals
from tests import factories
from tests.harness import ACTOR, BRAND, Audited, Saved, TenancyCase, owners_post

FILERS = frozenset({Role.OWNER, Role.REPORTER})
OWNERS = frozenset({Role.OWNER})
_numbers = count(1)


def _candidate(brand, user) -> dict[str, Any]:
    """A final removal of the brand (so a bank entry) and a new listing that looks like it."""
    marketplace = factories.MarketplaceFactory(slug="tenancy-market", hosts=["tenancy-market.example"])
    case = services.case_submit(
        request=factories.filing_request(
            brand=brand,
            actor=user,
            rights=[factories.IPRightFactory(brand=brand)],
            listing_urls=[f"https://tenancy-market.example/item/R{next(_numbers)}"],
            signed_name="Olivia Owner",
        )
    )
    moderator = factories.UserFactory(username="tenancy-moderator", is_staff=True)
    item = drive_item_to(case.items.get(), ItemStatus.FINAL, moderator=moderator, brand_user=user)
    fingerprint = RemovalFingerprint.objects.get(source_item=item)
    n = next(_numbers)
    listing = factories.ListingFactory(
        marketplace=marketplace, external_id=f"RN{n}", url=f"https://tenancy-market.example/item/RN{n}"
    )
    candidate = ReListingCandidate.objects.create(
        brand=brand,
        fingerprint=fingerprint,
        listing=listing,
        signals=Signals(title_similarity=0.93, matched=["title"]).as_json(),
        score=0.93,
        strength="weak",
    )
    return {"pk": candidate.pk}


CASES = [
    TenancyCase("detection:candidate_list", model=ReListingCandidate),
    TenancyCase(
        "detection:candidate_file",
        model=ReListingCandidate,
        make=_candidate,
        allowed_roles=FILERS,
        method="post",
        success=302,
        saved=Saved(ReListingCandidate, {"status": "filed", "automated": False, "filed_case__filed_by": ACTOR}),
        audited=Audited("candidate.file", from_state="open", to_state="filed"),
    ),
    TenancyCase(
        "detection:candidate_dismiss",
        model=ReListingCandidate,
        make=_candidate,
        allowed_roles=FILERS,
        method="post",
        success=302,
        saved=Saved(ReListingCandidate, {"status": "dismissed"}),
        audited=Audited("candidate.dismiss", from_state="open", to_state="dismissed"),
    ),
    TenancyCase("detection:policy", model=StayDownPolicy, allowed_roles=OWNERS),
    owners_post(
        "detection:policy",
        StayDownPolicy,
        data={"auto_file": "", "auto_file_min_score": "0.9", "list_weak": "on"},
        saved=Saved(
            StayDownPolicy,
            {"brand": BRAND, "auto_file": False, "auto_file_min_score": 0.9, "list_weak": True, "updated_by": ACTOR},
        ),
        audited=Audited("policy.update"),
    ),
]
