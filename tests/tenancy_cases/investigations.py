"""Tenancy cases of the brand's test purchases: the list, a purchase's page and its files (every role),
recording one, adding a custody event and recording the verdict (owners and reporters; viewers 403).
Another brand's purchase or file answers 404."""

from datetime import timedelta
from itertools import count
from typing import Any

from django.utils import timezone

from brands.choices import Role
from cases import services as case_services
from cases.models import CaseItem
from investigations.demo import PNG
from investigations.models import CustodyEvent, TestPurchase, TestPurchaseAttachment, TestPurchaseFile
from investigations.services import purchases as service
from listings.models import Listing
from tests import factories
from tests.harness import ACTOR, BRAND, Audited, Saved, TenancyCase, url_object
from tests.tenancy_cases.brands import RewindingUpload

FILERS = frozenset({Role.OWNER, Role.REPORTER})
_numbers = count(1)


def _listing() -> Any:
    marketplace = factories.MarketplaceFactory(slug="tp-market", hosts=["tp-market.example"])
    n = next(_numbers)
    return factories.ListingFactory(
        marketplace=marketplace, external_id=f"TP{n}", url=f"https://tp-market.example/item/TP{n}"
    )


def _purchase(brand, user) -> dict[str, Any]:
    purchase = service.purchase_record(
        brand=brand,
        actor=user,
        listing_url=_listing().url,
        order_id=f"ORD-{next(_numbers)}",
        purchased_on=timezone.localdate() - timedelta(days=5),
        files=[service.check_purchase_file(RewindingUpload("order.png", PNG))],
    )
    return {"pk": purchase.pk}


def _counterfeit(brand, user) -> dict[str, Any]:
    kwargs = _purchase(brand, user)
    service.purchase_verdict(
        purchase=TestPurchase.objects.get(pk=kwargs["pk"]),
        actor=user,
        verdict="counterfeit",
        report="Fake.",
        authenticator_name="Dana Expert",
    )
    return kwargs


def _reported(brand, user, purchase: TestPurchase) -> int:
    """The id of the brand's report (case item) of the purchase's listing, filed afresh if none is open."""
    open_item = CaseItem.objects.for_brand(brand).open().filter(listing=purchase.listing).first()
    if open_item is not None:
        return open_item.pk
    case = case_services.case_submit(
        request=factories.filing_request(
            brand=brand,
            actor=user,
            rights=[factories.IPRightFactory(brand=brand)],
            listing_urls=[purchase.listing.url],
            signed_name="Olivia Owner",
        )
    )
    return case.items.get().pk


def _attachable(brand, user) -> dict[str, Any]:
    """A counterfeit verdict and the brand's report of the same listing, not attached yet."""
    kwargs = _counterfeit(brand, user)
    return {**kwargs, "item_id": _reported(brand, user, TestPurchase.objects.get(pk=kwargs["pk"]))}


def _file(brand, user) -> dict[str, Any]:
    purchase = TestPurchase.objects.get(pk=_purchase(brand, user)["pk"])
    return {"pk": purchase.files.get().pk}


RECORDED_URL = "https://tp-market.example/item/RECORDED"


def _record(brand, user) -> dict[str, Any]:
    """Each allowed role records the same order afresh: the listing an earlier role's purchase made moves
    aside (purchases are never deleted), so the form's URL names a new listing again."""
    factories.MarketplaceFactory(slug="tp-market", hosts=["tp-market.example"])
    n = next(_numbers)
    Listing.objects.filter(url=RECORDED_URL).update(url=f"{RECORDED_URL}-{n}", external_id=f"MOVED{n}")
    return {}


def _record_data() -> dict[str, Any]:
    return {
        "listing_url": RECORDED_URL,
        "order_id": "ORD-RECORDED",
        "purchased_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "files": RewindingUpload("parcel.png", PNG),
    }


CASES = [
    TenancyCase("investigations:purchase_list", model=TestPurchase),
    TenancyCase("investigations:purchase_detail", model=TestPurchase, make=_purchase),
    TenancyCase("investigations:file_download", model=TestPurchaseFile, make=_file),
    TenancyCase(
        "investigations:attach",
        model=TestPurchase,
        make=_attachable,
        allowed_roles=FILERS,
        method="post",
        success=302,
        saved=Saved(TestPurchaseAttachment, {"attached_by": ACTOR}, created=True),
        audited=Audited("test_purchase.attach", target=url_object(TestPurchase)),
    ),
    # The filing page of a counterfeit verdict (the filing itself is tested in test_purchases_notices.py).
    TenancyCase("investigations:notice_create", model=TestPurchase, make=_counterfeit, allowed_roles=FILERS),
    TenancyCase(
        "investigations:purchase_create",
        model=TestPurchase,
        make=_record,
        allowed_roles=FILERS,
        method="post",
        data=_record_data(),
        success=302,
        saved=Saved(TestPurchase, {"brand": BRAND, "recorded_by": ACTOR, "order_id": "ORD-RECORDED"}),
        audited=Audited("test_purchase.record", to_state="pending"),
    ),
    TenancyCase(
        "investigations:event_create",
        model=TestPurchase,
        make=_purchase,
        allowed_roles=FILERS,
        method="post",
        data={"event_type": "received", "note": "Parcel arrived sealed."},
        success=302,
        saved=Saved(CustodyEvent, {"event_type": "received", "sequence": 2, "actor": ACTOR}),
        audited=Audited("test_purchase.custody", target=url_object(TestPurchase)),
    ),
    TenancyCase(
        "investigations:verdict",
        model=TestPurchase,
        make=_purchase,
        allowed_roles=FILERS,
        method="post",
        data={"verdict": "counterfeit", "authenticator_name": "Dana Expert", "report": "Fake stitching."},
        success=302,
        saved=Saved(TestPurchase, {"verdict": "counterfeit", "authenticator_name": "Dana Expert"}),
        audited=Audited("test_purchase.verdict", from_state="pending", to_state="counterfeit"),
    ),
]
