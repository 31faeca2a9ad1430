"""The guard against server-side request forgery for webhook URLs.

A webhook URL is chosen by a brand user, and the portal's workers sit inside the operator's network, so
an unchecked URL would let anyone make the workers call internal services (metadata endpoints,
databases, admin consoles). Every URL is checked when it is registered and again, after a fresh DNS
lookup, before every delivery: https only where `WEBHOOK_REQUIRE_HTTPS` (production); no private,
loopback, link-local, multicast or reserved address unless `WEBHOOK_ALLOW_PRIVATE_ADDRESSES` (tests and
local demos). Redirects are never followed, so a public URL cannot bounce the request inward.

What remains: a host whose DNS answer changes between this check and the connection (DNS rebinding)
could still reach an inward address for one request; pinning the resolved address into the connection
would close that, at the cost of a custom transport.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """The URL may not be called from the portal."""


def _rules() -> dict:
    return settings.MARKETSAFE


def check_webhook_url(url: str, *, resolve: bool = True) -> None:
    """Raise UnsafeURL (with a message for the user) when the portal must not call `url`."""
    parts = urlsplit(url)
    allowed_schemes = {"https"} if _rules()["WEBHOOK_REQUIRE_HTTPS"] else {"https", "http"}
    if parts.scheme not in allowed_schemes:
        raise UnsafeURL(f"The URL must start with {' or '.join(sorted(s + '://' for s in allowed_schemes))}.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL must not contain a user name or password.")
    if _rules()["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] or not resolve:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host name {parts.hostname} does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(f"{parts.hostname} resolves to a private or reserved address ({address}).")
