"""Webhook signatures, Stripe's scheme: `MarketSafe-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC is computed with the endpoint's secret over `"<t>." + raw body`. Binding the timestamp into the
signed text makes a captured delivery useless later: receivers reject a signature whose `t` is older than
their tolerance (5 minutes is usual), and may also remember event ids to drop exact replays within it.
`verify_signature` is what a Python receiver runs; README shows it.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "MarketSafe-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The header is missing or malformed, the signature does not match, or it is too old."""


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(secret, t, body)}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None
) -> int:
    """Check a signature header against the raw body; returns its timestamp or raises SignatureError."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise SignatureError("No timestamp in the signature header.") from exc
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("The signature's timestamp is outside the tolerance: a replay or a wrong clock.")
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureError("The signature does not match the body.")
    return timestamp
