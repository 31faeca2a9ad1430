"""Fixtures of the test-purchase tests: files as a browser uploads them, a listing with a seller, and a
purchase recorded through the real service."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from investigations.demo import MP4, PDF, PNG
from investigations.services import purchases as service
from tests import factories

__all__ = ["MP4", "PDF", "PNG", "checked", "upload"]


def upload(name: str = "parcel.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def checked(name: str = "parcel.png", content: bytes = PNG):
    return service.check_purchase_file(upload(name, content))


@pytest.fixture
def seller(marketplace):
    return factories.SellerFactory(marketplace=marketplace, external_id="S-FAKE", name="Cheap Bags Outlet")


@pytest.fixture
def listing(marketplace, seller):
    return factories.ListingFactory(
        marketplace=marketplace,
        seller=seller,
        external_id="TP1",
        url="https://shopnow.example/item/TP1",
        title="Acme Leather Tote",
        price="39.00",
        currency="EUR",
    )


@pytest.fixture
def record(brand, reporter, listing):
    """record(**overrides) → a test purchase of the brand on `listing`, recorded through the service."""
    counter = iter(range(1, 10_000))

    def make(**overrides):
        kwargs = {
            "brand": brand,
            "actor": reporter,
            "listing_url": listing.url,
            "order_id": f"ORD-{next(counter)}",
            "purchased_on": timezone.localdate() - timedelta(days=10),
            "files": [checked("order.png")],
        } | overrides
        return service.purchase_record(**kwargs)

    return make


@pytest.fixture
def counterfeit(record, reporter):
    """counterfeit(**overrides) → a recorded purchase with a counterfeit verdict."""

    def make(**overrides):
        purchase = record(**overrides)
        return service.purchase_verdict(
            purchase=purchase,
            actor=reporter,
            verdict="counterfeit",
            report="Stitching and logo do not match the genuine article.",
            authenticator_name="Dana Expert",
            authenticator_organisation="Acme Brand Protection",
        )

    return make
