"""Listing URLs are canonicalised once (listings.services) and resolve to the listing they name, whatever
form the brand pasted: the preview, the filing and delisting files agree (issue 14.1, issue 13.5)."""

import hypothesis
import pytest
from django.core.exceptions import ValidationError
from hypothesis import strategies as st

from cases.importing import parse_pasted, preview_rows
from listings import services
from listings.delisting.selections import read_line
from listings.models import Listing
from listings.services import normalise_listing_url
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def bazaarhub():
    return factories.MarketplaceFactory(
        name="BazaarHub",
        slug="bazaarhub",
        hosts=["bazaarhub.example"],
        listing_id_pattern=r"/listing/(\d+)",
        listing_url_example="https://bazaarhub.example/listing/400012",
    )


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://shopnow.example/item/SN1013?ref=newsletter", "https://shopnow.example/item/SN1013"),
        ("https://bazaarhub.example/listing/400012?utm_source=mail", "https://bazaarhub.example/listing/400012"),
        (
            "https://shopnow.example/item/1?utm_medium=x&colour=red&fbclid=1",
            "https://shopnow.example/item/1?colour=red",
        ),
        ("HTTP://ShopNow.example:443/item/1/#reviews", "https://shopnow.example/item/1"),
    ],
)
def test_tracking_parameters_are_not_part_of_a_listing_url(given, canonical):
    assert normalise_listing_url(given) == canonical


def test_a_url_naming_an_existing_listing_with_a_tracking_query_files_against_it(file_case, marketplace):
    existing = factories.ListingFactory(marketplace=marketplace, external_id="SN1013")
    assert existing.url == "https://shopnow.example/item/SN1013"

    case = file_case(listing_urls=["https://shopnow.example/item/SN1013?ref=newsletter"])

    assert case.items.get().listing == existing
    assert Listing.objects.count() == 1


def test_a_url_naming_an_existing_listing_by_its_id_in_another_form_files_against_it(file_case, marketplace):
    existing = factories.ListingFactory(marketplace=marketplace, external_id="SN2000")
    case = file_case(listing_urls=["https://www.shopnow.example/item/SN2000?session=abc"])
    assert case.items.get().listing == existing
    assert Listing.objects.count() == 1


def test_two_forms_of_one_listing_in_a_filing_are_refused_with_a_message(file_case, marketplace):
    factories.ListingFactory(marketplace=marketplace, external_id="SN3000")
    with pytest.raises(ValidationError) as exc_info:
        file_case(listing_urls=["https://shopnow.example/item/SN3000", "https://www.shopnow.example/item/SN3000"])
    assert "name the same listing" in " ".join(exc_info.value.messages)


def test_the_preview_says_when_two_rows_name_the_same_listing(brand, marketplace):
    preview = preview_rows(
        brand=brand,
        rows=parse_pasted(
            "\n".join(
                [
                    "https://shopnow.example/item/SN1",
                    "https://shopnow.example/item/SN1?ref=newsletter",
                    "https://www.shopnow.example/item/SN1?colour=red",
                ]
            )
        ),
    )
    assert [row.errors for row in preview.rows] == [
        [],
        ["Duplicate of row 1."],
        ["Names the same listing as row 1 (ShopNow listing SN1)."],
    ]


def test_the_preview_refuses_a_url_that_is_not_a_listing_of_its_marketplace(brand, bazaarhub):
    preview = preview_rows(
        brand=brand,
        rows=parse_pasted("https://bazaarhub.example/listing/not-a-number\nhttps://bazaarhub.example/listing/400012"),
    )
    assert [row.errors for row in preview.rows] == [
        ["Not a listing URL of BazaarHub: its listing URLs look like https://bazaarhub.example/listing/400012."],
        [],
    ]


def test_filing_refuses_a_url_that_is_not_a_listing_of_its_marketplace(file_case, bazaarhub):
    with pytest.raises(ValidationError) as exc_info:
        file_case(listing_urls=["https://bazaarhub.example/search?q=bag"])
    assert "look like https://bazaarhub.example/listing/400012" in " ".join(exc_info.value.messages)
    assert not Listing.objects.exists()


def test_a_delisting_file_line_with_a_tracking_query_reads_the_canonical_url():
    assert read_line("https://shopnow.example/item/SN1013?utm_source=mail")[1] == "https://shopnow.example/item/SN1013"


# The fast path for URLs already canonical (listings.services._CANONICAL) must give what the full
# canonicalisation gives: checked on generated URLs, canonical-looking and not.
URLISH = st.one_of(
    st.from_regex(r"https?://[a-zA-Z0-9.:@\[\]-]{0,20}(/[^?#]{0,15}){0,3}(\?[a-z=&_]{0,10})?(#x)?", fullmatch=True),
    st.from_regex(r"https://[a-z0-9-]{1,8}(\.[a-z0-9-]{1,5}){0,2}(/[A-Za-z0-9%._~\\ -]{1,8}){0,3}/?", fullmatch=True),
    st.text(max_size=30).map(lambda tail: "https://shop.example/" + tail),
)


def _slow(url: str) -> str | None:
    try:
        return services._normalise_parsed(url)
    except ValueError:
        return None


@hypothesis.settings(max_examples=600, derandomize=True)
@hypothesis.given(URLISH)
def test_the_fast_path_for_canonical_urls_agrees_with_the_full_canonicalisation(url):
    try:
        fast = normalise_listing_url(url)
    except ValueError:
        fast = None
    assert fast == _slow(url)
    if services._CANONICAL.fullmatch(url):
        assert fast == url
