"""Tenancy cases of the brand watch: the searches and matches lists and the digest opt-in (every role),
saving, editing and deleting searches, bulk decisions and filing matches (owners and reporters; viewers
403). Another brand's search or match answers 404."""

from itertools import count
from typing import Any

from brands.choices import Role
from detection.models import WatchMatch, WatchSearch
from tests import factories
from tests.harness import ACTOR, BRAND, Audited, Deleted, Saved, TenancyCase, Unchanged

FILERS = frozenset({Role.OWNER, Role.REPORTER})
_numbers = count(1)


def _search(brand, user) -> dict[str, Any]:
    search = WatchSearch.objects.create(brand=brand, name="Totes", words="acme tote", created_by=user)
    return {"pk": search.pk}


def _match(brand, user) -> dict[str, Any]:
    """A match of a brand in the expedited lane with a usable right, so one click files it."""
    if not brand.program_memberships.exists():
        factories.ProgramMembershipFactory(brand=brand)
        factories.IPRightFactory(brand=brand)
    marketplace = factories.MarketplaceFactory(slug="watch-market", hosts=["watch-market.example"])
    n = next(_numbers)
    listing = factories.ListingFactory(
        marketplace=marketplace, external_id=f"WT{n}", url=f"https://watch-market.example/item/WT{n}"
    )
    search = WatchSearch.objects.create(brand=brand, name="Totes", words="acme", created_by=user)
    match = WatchMatch.objects.create(brand=brand, search=search, listing=listing, signals={"matched": ["words"]})
    return {"pk": match.pk}


def _match_bulk(brand, user) -> dict[str, Any]:
    _match(brand, user)
    return {}


def _latest_match(write: Any) -> WatchMatch:
    return WatchMatch.objects.filter(brand=write.brand).latest("pk")


CASES = [
    TenancyCase("detection:watch_list", model=WatchSearch),
    TenancyCase("detection:watch_match_list", model=WatchMatch),
    TenancyCase("detection:watch_create", model=WatchSearch, allowed_roles=FILERS),
    TenancyCase(
        "detection:watch_create",
        model=WatchSearch,
        allowed_roles=FILERS,
        method="post",
        data={"name": "Cheap totes", "words": "acme tote", "price_max": "30", "active": "on", "digest": "on"},
        success=302,
        saved=Saved(WatchSearch, {"brand": BRAND, "created_by": ACTOR, "words": "acme tote"}),
        audited=Audited("watch.create"),
    ),
    TenancyCase(
        "detection:watch_create",
        model=WatchSearch,
        allowed_roles=FILERS,
        method="post",
        data={"name": "Bad", "price_min": "50", "price_max": "10"},
        saved=Unchanged(WatchSearch, "the highest price is below the lowest: the form comes back with the error"),
    ),
    TenancyCase("detection:watch_update", model=WatchSearch, make=_search, allowed_roles=FILERS),
    TenancyCase(
        "detection:watch_update",
        model=WatchSearch,
        make=_search,
        allowed_roles=FILERS,
        method="post",
        data={"name": "Renamed", "words": "acme", "active": "on"},
        success=302,
        saved=Saved(WatchSearch, {"name": "Renamed", "words": "acme"}),
        audited=Audited("watch.update"),
    ),
    TenancyCase("detection:watch_delete", model=WatchSearch, make=_search, allowed_roles=FILERS),
    TenancyCase(
        "detection:watch_delete",
        model=WatchSearch,
        make=_search,
        allowed_roles=FILERS,
        method="post",
        success=302,
        saved=Deleted(WatchSearch),
        audited=Audited("watch.delete"),
    ),
    TenancyCase(
        "detection:watch_digest",
        model=WatchSearch,
        make=_search,
        method="post",
        data={"digest": "on"},
        success=302,
        saved=Saved(WatchSearch, {}),
        audited=Audited("watch.digest"),
    ),
    TenancyCase(
        "detection:watch_match_file",
        model=WatchMatch,
        make=_match,
        allowed_roles=FILERS,
        method="post",
        success=302,
        saved=Saved(WatchMatch, {"state": "filed", "decided_by": ACTOR, "filed_case__filed_by": ACTOR}),
        audited=Audited("watch_match.file", from_state="new", to_state="filed"),
    ),
    # Bulk decisions name their matches in the body: a body without any changes nothing (the page tests
    # check another brand's ids in the body).
    TenancyCase(
        "detection:watch_match_bulk",
        model=WatchMatch,
        make=_match_bulk,
        allowed_roles=FILERS,
        method="post",
        data={"action": "seen"},
        success=302,
        saved=Unchanged(WatchMatch, "no match ticked: the list says so and nothing changes"),
    ),
]
