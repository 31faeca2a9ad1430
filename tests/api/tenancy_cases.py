"""Tenancy cases of every brand endpoint of the REST API, run by tests/api_harness.py.

Reads are open to every role; filing and the item actions need the FILE capability (owners and
reporters), the rights registry's writes MANAGE (owners). Writes act on a fresh object per role, driven
to the status the action starts from through the real services (the page cases' helpers).
"""

from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile

from brands.choices import Role
from brands.models import IPRight, IPRightDocument
from cases.choices import ItemStatus
from cases.models import Case, CaseDraft, CaseItem
from detection.models import ReListingCandidate, WatchMatch, WatchSearch
from investigations.models import TestPurchase
from tests import factories
from tests.api_harness import ApiTenancyCase
from tests.tenancy_cases.brands import PDF
from tests.tenancy_cases.cases_pages import _case, _file, _item_in
from tests.tenancy_cases.detection import _candidate
from tests.tenancy_cases.investigations import PNG, _counterfeit, _listing, _purchase, _reported
from tests.tenancy_cases.watch import _match, _search

FILERS = frozenset({Role.OWNER, Role.REPORTER})
OWNERS = frozenset({Role.OWNER})
MARKET_HOST = "tenancy-market.example"
_numbers = count(1)


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def filing_body(brand, user) -> dict:
    """A multipart filing by the brand's own right (standard lane: evidence is required)."""
    factories.MarketplaceFactory(slug="tenancy-market", hosts=[MARKET_HOST])
    return {
        "rights": [factories.IPRightFactory(brand=brand).pk],
        "reason_code": "counterfeit",
        "explanation": "Counterfeit logo on the strap.",
        "evidence": [pdf()],
        "evidence_kind": "test_purchase",
        "declare_good_faith": "true",
        "declare_accuracy": "true",
        "declare_authority": "true",
        "signed_name": "Olivia Owner",
    }


def create_body(brand, user) -> dict:
    return {**filing_body(brand, user), "listing_urls": [f"https://{MARKET_HOST}/item/API{next(_numbers)}"]}


def import_body(brand, user) -> dict:
    csv = f"url,note\nhttps://{MARKET_HOST}/item/CSV{next(_numbers)},Fake strap\n".encode()
    return {**filing_body(brand, user), "listing_file": SimpleUploadedFile("listings.csv", csv, "text/csv")}


def _import(brand, user) -> dict:
    """A background CSV import by `user` (its author, the only one who sees it)."""
    from tests.cases.test_filing_tasks import make_draft

    right = factories.IPRightFactory(brand=brand)
    return {"pk": make_draft(brand=brand, reporter=user, right=right, count=1).pk}


def _seed_case(brand, user) -> int:
    return _file(brand, user).pk


def _seed_item(brand, user) -> int:
    return _file(brand, user).items.get().pk


def _right(brand, user) -> dict:
    return {"pk": factories.IPRightFactory(brand=brand).pk}


def right_body(brand, user) -> dict:
    return {
        "kind": "trademark",
        "name": "ACME",
        "registration_number": f"API{next(_numbers):06d}",
        "office": "EUIPO",
        "owner_name": "Acme Leather Ltd",
        "classes": [18, 25],
        "valid_from": "2020-01-01",
        "valid_until": "2030-01-01",
    }


def _action(name: str, status: str, body: dict) -> ApiTenancyCase:
    """An item action, posted by each role on a fresh item in the status it starts from."""
    return ApiTenancyCase(
        f"cases-api:item-{name}",
        model=CaseItem,
        make=_item_in(status),
        method="post",
        body=lambda brand, user: body,
        allowed_roles=FILERS,
    )


def purchase_body(brand, user) -> dict:
    """A multipart test purchase of a fresh listing, with a photo."""
    return {
        "listing_url": _listing().url,
        "order_id": f"API-{next(_numbers)}",
        "purchased_on": "2026-01-02",
        "files": [SimpleUploadedFile("parcel.png", PNG, content_type="image/png")],
    }


def attach_body(brand, user) -> dict:
    """The brand's report of the listing of its latest test purchase (the one `make` just verdicted)."""
    purchase = TestPurchase.objects.filter(brand=brand).latest("pk")
    return {"item": _reported(brand, user, purchase)}


CASES = [
    # Cases.
    ApiTenancyCase("cases-api:case-list", model=Case, seed=_seed_case),
    ApiTenancyCase(
        "cases-api:case-list",
        model=Case,
        method="post",
        body=create_body,
        format="multipart",
        allowed_roles=FILERS,
        success=201,
    ),
    ApiTenancyCase("cases-api:case-detail", model=Case, make=_case),
    ApiTenancyCase("cases-api:case-withdraw", model=Case, make=_case, method="post", allowed_roles=FILERS),
    ApiTenancyCase(
        "cases-api:case-import-csv",
        model=Case,
        method="post",
        body=import_body,
        format="multipart",
        allowed_roles=FILERS,
        success=201,
    ),
    ApiTenancyCase("cases-api:case-import-detail", model=CaseDraft, make=_import),
    # Reported listings (case items) and the brand's actions on them.
    ApiTenancyCase("cases-api:item-list", model=CaseItem, seed=_seed_item),
    ApiTenancyCase("cases-api:item-detail", model=CaseItem, make=_item_in(ItemStatus.SUBMITTED)),
    _action("resubmit", ItemStatus.CLARIFICATION_REQUESTED, {"note": "The listing shows our registered logo."}),
    _action("answer", ItemStatus.COUNTER_NOTICED, {"answer": "accept"}),
    _action("appeal", ItemStatus.REJECTED, {"grounds": "The test purchase report was attached."}),
    _action("withdraw", ItemStatus.SUBMITTED, {"reason": "Reported by mistake."}),
    # The IP rights registry.
    ApiTenancyCase("brands-api:ip-right-list", model=IPRight, seed=lambda brand, user: _right(brand, user)["pk"]),
    ApiTenancyCase(
        "brands-api:ip-right-list", model=IPRight, method="post", body=right_body, allowed_roles=OWNERS, success=201
    ),
    ApiTenancyCase("brands-api:ip-right-detail", model=IPRight, make=_right),
    ApiTenancyCase(
        "brands-api:ip-right-detail",
        model=IPRight,
        make=_right,
        method="patch",
        body=lambda brand, user: {"name": "ACME NEW"},
        allowed_roles=OWNERS,
    ),
    ApiTenancyCase(
        "brands-api:ip-right-documents",
        model=IPRightDocument,
        make=_right,
        method="post",
        body=lambda brand, user: {"file": pdf("renewal.pdf"), "kind": "renewal"},
        format="multipart",
        allowed_roles=OWNERS,
        success=201,
    ),
    # Test purchases.
    ApiTenancyCase(
        "investigations-api:test-purchase-list", model=TestPurchase, seed=lambda b, u: _purchase(b, u)["pk"]
    ),
    ApiTenancyCase(
        "investigations-api:test-purchase-list",
        model=TestPurchase,
        method="post",
        body=purchase_body,
        format="multipart",
        allowed_roles=FILERS,
        success=201,
    ),
    ApiTenancyCase("investigations-api:test-purchase-detail", model=TestPurchase, make=_purchase),
    ApiTenancyCase(
        "investigations-api:test-purchase-events",
        model=TestPurchase,
        make=_purchase,
        method="post",
        body=lambda brand, user: {"event_type": "received", "note": "Parcel arrived sealed."},
        allowed_roles=FILERS,
        success=201,
    ),
    ApiTenancyCase(
        "investigations-api:test-purchase-verdict",
        model=TestPurchase,
        make=_purchase,
        method="post",
        body=lambda brand, user: {"verdict": "counterfeit", "authenticator_name": "Dana", "report": "Fake."},
        allowed_roles=FILERS,
    ),
    ApiTenancyCase(
        "investigations-api:test-purchase-attach",
        model=TestPurchase,
        make=_counterfeit,
        method="post",
        body=attach_body,
        allowed_roles=FILERS,
        success=201,
    ),
    # Stay-down detection: the re-listing candidates feed.
    ApiTenancyCase("detection-api:candidate-list", model=ReListingCandidate, seed=lambda b, u: _candidate(b, u)["pk"]),
    ApiTenancyCase("detection-api:candidate-detail", model=ReListingCandidate, make=_candidate),
    ApiTenancyCase(
        "detection-api:candidate-file", model=ReListingCandidate, make=_candidate, method="post", allowed_roles=FILERS
    ),
    ApiTenancyCase(
        "detection-api:candidate-dismiss",
        model=ReListingCandidate,
        make=_candidate,
        method="post",
        allowed_roles=FILERS,
    ),
    # Brand watch: saved searches and their matches.
    ApiTenancyCase("detection-api:watch-search-list", model=WatchSearch, seed=lambda b, u: _search(b, u)["pk"]),
    ApiTenancyCase(
        "detection-api:watch-search-list",
        model=WatchSearch,
        method="post",
        body=lambda brand, user: {"name": "Cheap totes", "words": "acme tote", "price_max": "30.00"},
        allowed_roles=FILERS,
        success=201,
    ),
    ApiTenancyCase("detection-api:watch-search-detail", model=WatchSearch, make=_search),
    ApiTenancyCase(
        "detection-api:watch-search-detail",
        model=WatchSearch,
        make=_search,
        method="patch",
        body=lambda brand, user: {"name": "Renamed"},
        allowed_roles=FILERS,
    ),
    ApiTenancyCase(
        "detection-api:watch-search-detail",
        model=WatchSearch,
        make=_search,
        method="delete",
        allowed_roles=FILERS,
        success=204,
    ),
    ApiTenancyCase("detection-api:watch-match-list", model=WatchMatch, seed=lambda b, u: _match(b, u)["pk"]),
    ApiTenancyCase("detection-api:watch-match-detail", model=WatchMatch, make=_match),
    ApiTenancyCase(
        "detection-api:watch-match-state",
        model=WatchMatch,
        make=_match,
        method="post",
        body=lambda brand, user: {"state": "seen"},
        allowed_roles=FILERS,
    ),
    ApiTenancyCase(
        "detection-api:watch-match-file", model=WatchMatch, make=_match, method="post", allowed_roles=FILERS
    ),
]
