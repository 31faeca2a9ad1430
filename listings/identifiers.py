"""Sellers' identifiers (address, phone, payment account, tax id), kept only as keyed hashes.

The marketplace sends them in clear with its sellers (the platform upsert's `identifiers`); they are
normalised and hashed at once, and only the digest is stored (`SellerIdentifier.digest`). The clear value is
never saved, logged or shown: two sellers sharing an identifier is all seller networks need to know.

- Normalisation (`normalise`) makes the marketplace's spellings of one value meet: a phone keeps its digits
  ("+49 (30) 1234-567" and "0049 30 1234567" are one number), an address is case-folded with punctuation
  and runs of whitespace reduced to one space, a payment account or tax id keeps its letters and digits in
  capitals ("DE89 3704-0044" is "DE8937040044"). Text is NFKC-normalised first (full-width digits, ligatures).
- The hash is HMAC-SHA256 of "<kind>:<normalised value>" under `settings.SELLER_IDENTIFIER_KEY`. A keyed hash,
  not a plain one: phone numbers and tax ids are few enough to be found from a plain hash by trying them
  all; without the key a stolen table says nothing. Production requires the key from the environment
  (development derives one from SECRET_KEY). Changing the key makes every stored digest meet nothing: the
  marketplace's next push of each seller stores it again under the new key.
"""

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import connection, transaction

from listings.choices import SellerIdentifierKind

K = SellerIdentifierKind

#: Identifiers of one kind a seller may have, and the length of one in clear (the API's limits).
MAX_PER_KIND = 10
MAX_LENGTH = 500
#: The shortest normalised value that identifies anything (a phone number of fewer digits does not).
MIN_LENGTH = {K.ADDRESS: 6, K.PHONE: 6, K.PAYMENT_ACCOUNT: 4, K.TAX_ID: 4}

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_NOT_DIGIT = re.compile(r"\D")
_PUNCTUATION_OR_SPACE = re.compile(r"[\W_]+")


class IdentifierInvalid(ValueError):
    """The value normalises to too little to identify a seller; the text says why (never the value)."""


def normalise(kind: str, value: str) -> str:
    """The canonical form of `value` as an identifier of `kind`; raises IdentifierInvalid when too short."""
    text = unicodedata.normalize("NFKC", value)
    if kind == K.PHONE:
        digits = _NOT_DIGIT.sub("", text)
        normalised = digits[2:] if digits.startswith("00") else digits  # "0049..." is "+49..."
    elif kind == K.ADDRESS:
        normalised = _PUNCTUATION_OR_SPACE.sub(" ", text.casefold()).strip()
    elif kind in (K.PAYMENT_ACCOUNT, K.TAX_ID):
        normalised = _NOT_ALNUM.sub("", text.upper())
    else:
        raise IdentifierInvalid(f"Unknown kind of identifier {kind!r}.")
    if len(normalised) < MIN_LENGTH[kind]:
        raise IdentifierInvalid(
            f"Too short to identify a seller once normalised (at least {MIN_LENGTH[kind]} characters)."
        )
    return normalised


def _keyed() -> "hmac.HMAC":
    """An HMAC-SHA256 keyed with the setting, to `.copy()` per value (the key is set up once per request)."""
    return hmac.new(settings.SELLER_IDENTIFIER_KEY.encode(), digestmod=hashlib.sha256)


def identifier_digest(kind: str, value: str, *, keyed: "hmac.HMAC | None" = None) -> str:
    """The stored digest of a clear `value` of `kind` (normalised first; raises IdentifierInvalid)."""
    mac = (keyed or _keyed()).copy()
    mac.update(f"{kind}:{normalise(kind, value)}".encode())
    return mac.hexdigest()


def digests_of(identifiers: Mapping[str, Sequence[str]]) -> tuple[set[tuple[str, str]], dict[str, list[str]]]:
    """({(kind, digest)}, errors by kind) for one seller's identifiers as the API takes them."""
    digests: set[tuple[str, str]] = set()
    errors: dict[str, list[str]] = {}
    keyed = _keyed()
    for kind, values in identifiers.items():
        for position, value in enumerate(values):
            try:
                digests.add((kind, identifier_digest(kind, value, keyed=keyed)))
            except IdentifierInvalid as exc:
                errors.setdefault(kind, []).append(f"Value {position}: {exc}")
    return digests, errors


_DELETE_SQL = "DELETE FROM listings_selleridentifier WHERE seller_id = ANY(%s::bigint[])"
_INSERT_SQL = """
INSERT INTO listings_selleridentifier (seller_id, kind, digest, created_at)
SELECT i.seller_id, i.kind, i.digest, now()
FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS i(seller_id, kind, digest)
"""


@transaction.atomic
def seller_identifiers_replace(*, digests_by_seller: Mapping[int, set[tuple[str, str]]]) -> int:
    """Replace the stored identifiers of each seller given (an empty set clears them): one DELETE and one
    INSERT from arrays for all of them (the ingest's way, not a query or an object per row). Returns the
    rows written."""
    if not digests_by_seller:
        return 0
    columns: tuple[list, list, list] = ([], [], [])
    for seller_id, digests in digests_by_seller.items():
        for kind, digest in sorted(digests):
            for column, value in zip(columns, (seller_id, kind, digest), strict=True):
                column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(_DELETE_SQL, [list(digests_by_seller)])
        if columns[0]:
            cursor.execute(_INSERT_SQL, list(columns))
    return len(columns[0])
