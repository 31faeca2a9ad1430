"""Sellers' identifiers: normalised, stored only as keyed hashes, accepted by the platform's seller upsert."""

import hashlib
import hmac
import json
import logging

import pytest
from django.db import connection
from django.urls import reverse

from listings.identifiers import IdentifierInvalid, identifier_digest, normalise
from listings.models import Seller, SellerIdentifier
from listings.upserts import UpsertRefused, sellers_upsert

SELLERS = reverse("platform-api:seller-bulk")
PHONE = "+49 (30) 1234-5678"
IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(
    ("kind", "one", "other"),
    [
        ("phone", "+49 (30) 1234-5678", "0049 30 12345678"),
        ("phone", "+49 30 1234 5678", "".join(chr(0xFF10 + int(d)) for d in "493012345678")),  # full-width digits
        ("address", "12  Market Street,\nSpringfield", "12 market street springfield"),
        ("payment_account", "DE89 3704-0044", "de8937040044"),
        ("tax_id", "DE 123.456.789", "de123456789"),
    ],
)
def test_spellings_of_one_value_normalise_alike(kind, one, other):
    assert normalise(kind, one) == normalise(kind, other)


def test_different_values_and_kinds_do_not_meet():
    assert identifier_digest("phone", "+49 30 12345678") != identifier_digest("phone", "+49 30 12345679")
    assert identifier_digest("tax_id", "DE123456789") != identifier_digest("payment_account", "DE123456789")


def test_too_short_a_value_is_refused():
    with pytest.raises(IdentifierInvalid, match="at least 6"):
        normalise("phone", "+1 (23)")


def test_the_digest_is_keyed(settings):
    digest = identifier_digest("phone", PHONE)
    assert digest != hashlib.sha256(b"phone:493012345678").hexdigest()
    expected = hmac.new(settings.SELLER_IDENTIFIER_KEY.encode(), b"phone:493012345678", hashlib.sha256).hexdigest()
    assert digest == expected
    settings.SELLER_IDENTIFIER_KEY = "another-key-" + "x" * 40
    assert identifier_digest("phone", PHONE) != digest


def _row_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t::text FROM {table} AS t")  # noqa: S608 - a fixed table name
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_the_upsert_stores_only_digests(marketplace, api, caplog):
    caplog.set_level(logging.DEBUG)
    body = {
        "sellers": [
            {
                "external_id": "S1",
                "name": "Shady Goods",
                "identifiers": {"phone": [PHONE], "payment_account": [IBAN], "address": ["1 Dock Road, Harbour"]},
            },
            {"external_id": "S2", "name": "No identifiers"},
        ]
    }
    response = api.post(SELLERS, body, format="json")
    assert response.status_code == 200, response.content
    seller = Seller.objects.get(external_id="S1")
    stored = SellerIdentifier.objects.filter(seller=seller)
    assert sorted(stored.values_list("kind", flat=True)) == ["address", "payment_account", "phone"]
    assert stored.get(kind="phone").digest == identifier_digest("phone", PHONE)
    assert not SellerIdentifier.objects.filter(seller__external_id="S2").exists()
    # No clear value anywhere in the rows (the identifiers', the seller's) nor in the log.
    text = _row_text("listings_selleridentifier") + _row_text("listings_seller")
    for clear in ("1234", "3704", "Dock", "493012345678", "DE89370400440532013000"):
        assert clear not in text
        assert clear not in caplog.text


@pytest.mark.django_db
def test_sending_identifiers_again_replaces_them_and_leaving_them_out_keeps_them(marketplace):
    first = sellers_upsert(
        marketplace=marketplace, rows=[{**_seller("S1"), "identifiers": {"phone": [PHONE], "tax_id": ["DE123456789"]}}]
    )
    seller_id = first.ids[0][1]
    sellers_upsert(marketplace=marketplace, rows=[{**_seller("S1"), "identifiers": {"phone": ["+33 1 23 45 67 89"]}}])
    assert list(SellerIdentifier.objects.filter(seller_id=seller_id).values_list("kind", "digest")) == [
        ("phone", identifier_digest("phone", "+33 1 23 45 67 89"))
    ]
    sellers_upsert(marketplace=marketplace, rows=[_seller("S1")])
    assert SellerIdentifier.objects.filter(seller_id=seller_id).count() == 1
    sellers_upsert(marketplace=marketplace, rows=[{**_seller("S1"), "identifiers": {}}])
    assert not SellerIdentifier.objects.filter(seller_id=seller_id).exists()


@pytest.mark.django_db
def test_an_unusable_identifier_refuses_the_request_naming_the_row_and_kind(marketplace, api):
    body = {"sellers": [_seller("S1"), {**_seller("S2"), "identifiers": {"phone": ["12"]}}]}
    response = api.post(SELLERS, body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["sellers"]
    assert list(errors) == ["1"]
    assert "identifiers.phone" in errors["1"]
    assert "12" not in errors["1"]["identifiers.phone"][0].split(":", 1)[1]  # the message names no value
    assert not Seller.objects.exists()
    with pytest.raises(UpsertRefused):
        sellers_upsert(marketplace=marketplace, rows=[{**_seller("S3"), "identifiers": {"address": ["a b"]}}])


def _seller(external_id: str) -> dict:
    return {"external_id": external_id, "name": f"Seller {external_id}", "account_type": "business", "country": ""}


@pytest.mark.django_db
def test_malformed_identifiers_get_one_flat_list_of_messages(marketplace, api):
    body = {
        "sellers": [
            {**_seller("S1"), "identifiers": {"phone": [12345678], "fax": ["x"], "tax_id": ["\ud800abc"]}},
            {**_seller("S2"), "identifiers": ["+49 30 12345678"]},
        ]
    }
    # json.dumps escapes the lone surrogate ("\ud800"), as a client's JSON would carry it.
    response = api.post(SELLERS, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]["sellers"]
    assert errors["0"]["identifiers"] == [
        "Unknown kind 'fax'.",
        "phone: value 0 is not text of 1 to 500 characters.",
        "tax_id: value 0 is not text of 1 to 500 characters.",
    ]
    assert errors["1"]["identifiers"] == [
        "An object of lists of text, by kind: address, phone, payment_account, tax_id."
    ]
    assert not Seller.objects.exists()
