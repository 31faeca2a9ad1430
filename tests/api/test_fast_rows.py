"""core.api.fast_rows gives exactly DRF's validated rows, or declines: checked against the platform's row
serializers on generated rows (valid, blank, whitespace, too long, NUL, surrogates, numbers, nulls, missing
keys, extra keys)."""

import string
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.api.fast_rows import validate_rows
from integrations.platform.serializers import ListingRowSerializer, SellerRowSerializer

TEXT = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + " -_./:", max_size=12),
    st.sampled_from(["", "   ", " x ", "EUR", "eur", "EURO", "DE", "https://shop.example/item/1", "http:/x"]),
    st.text(min_size=118, max_size=125, alphabet="ab"),
    st.sampled_from(["a\x00b", "a\ud800b", "x" * 501, "https://shop.example/" + "p" * 2000]),
)
VALUE = st.one_of(TEXT, st.none(), st.integers(-5, 10**13), st.booleans(), st.sampled_from(["1.5", "-1", "1e3", "nan"]))
MISSING = object()


def rows_of(keys: list[str]) -> st.SearchStrategy[list[dict]]:
    row = st.fixed_dictionaries({key: st.one_of(st.just(MISSING), VALUE) for key in [*keys, "extra"]})
    return st.lists(row.map(lambda r: {k: v for k, v in r.items() if v is not MISSING}), min_size=1, max_size=4)


def drf(serializer_class, rows):
    serializer = serializer_class(data=rows, many=True)
    return [dict(row) for row in serializer.validated_data] if serializer.is_valid() else None


LISTING_KEYS = ["external_id", "url", "seller_external_id", "title", "price", "currency"]


@settings(max_examples=400, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows_of(LISTING_KEYS))
def test_listing_rows_match_drf(rows):
    fast = validate_rows(ListingRowSerializer, rows)
    if fast is not None:
        assert fast == drf(ListingRowSerializer, rows)


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rows_of(["external_id", "name", "account_type", "country"]))
def test_seller_rows_match_drf(rows):
    fast = validate_rows(SellerRowSerializer, rows)
    if fast is not None:
        assert fast == drf(SellerRowSerializer, rows)


def test_plainly_valid_rows_are_taken_with_drfs_values():
    rows = [
        {"external_id": " L1 ", "url": "https://shop.example/item/1", "price": "19.9", "currency": "EUR"},
        {"external_id": "L2", "url": "https://shop.example/item/2", "seller_external_id": None, "title": "Bag"},
    ]
    fast = validate_rows(ListingRowSerializer, rows)
    assert fast == drf(ListingRowSerializer, rows)
    assert fast[0]["external_id"] == "L1" and fast[0]["price"] == Decimal("19.90") and fast[1]["currency"] == ""


def test_a_row_with_a_problem_is_left_to_drf():
    assert validate_rows(ListingRowSerializer, [{"external_id": "L1", "url": "ftp://x"}]) is None
    assert validate_rows(ListingRowSerializer, [{"url": "https://shop.example/item/1"}]) is None
    assert validate_rows(ListingRowSerializer, [{"external_id": "L\x00", "url": "https://s.example/i"}]) is None


VALID_LISTING = st.fixed_dictionaries(
    {
        "external_id": st.text(alphabet=string.ascii_letters + string.digits + " ", min_size=1, max_size=120).filter(
            str.strip
        ),
        "url": st.from_regex(r"https://[a-z]{1,8}\.example/item/[A-Za-z0-9]{1,20}", fullmatch=True),
    },
    optional={
        "seller_external_id": st.one_of(st.none(), st.from_regex(r"S[0-9]{1,6}", fullmatch=True)),
        "title": st.text(max_size=500).filter(lambda t: "\x00" not in t),
        "price": st.one_of(st.none(), st.decimals(0, 10**9, places=2).map(str)),
        "currency": st.sampled_from(["", "EUR", "USD", " GBP "]),
    },
)


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALID_LISTING, min_size=1, max_size=5))
def test_valid_listing_rows_are_taken_and_equal_drfs(rows):
    expected = drf(ListingRowSerializer, rows)
    assert expected is not None
    assert validate_rows(ListingRowSerializer, rows) == expected
