"""The guard against server-side request forgery for webhook URLs.

A webhook URL is chosen by a brand user, and the portal's workers sit inside the operator's network, so
an unchecked URL would let anyone make the workers call internal services (metadata endpoints,
databases, admin consoles). Every URL is checked when it is registered and again, after a fresh DNS
lookup, before every delivery: https only where `WEBHOOK_REQUIRE_HTTPS` (production); no address of a
special-purpose range (`address_refused`: private, loopback, link-local, site-local, shared, multicast,
reserved, documentation, and IPv6 forms that embed an IPv4 address: mapped, NAT64, 6to4, Teredo) unless
`WEBHOOK_ALLOW_PRIVATE_ADDRESSES`, which is off in every mode (tests and local demos turn it on).
Redirects are never followed, so a public URL cannot bounce the request inward. A refusal is final for a
delivery: it is not retried.

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


#: IPv6 prefixes that carry an IPv4 address the network translates to: refused whatever they embed, since
#: what they reach depends on the operator's translators (RFC 6052 NAT64, RFC 8215 local-use NAT64, RFC 3056
#: 6to4, RFC 4380 Teredo). The standard library counts the well-known NAT64 prefix as global.
EMBEDDING_NETWORKS = tuple(
    ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32")
)


def address_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether the portal must refuse to call `address` (any special-purpose range, in any form)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_refused(address.ipv4_mapped)
        if any(address in network for network in EMBEDDING_NETWORKS):
            return True
        if address.is_site_local:
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


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
        address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
        if address_refused(address):
            raise UnsafeURL(f"{parts.hostname} resolves to a private or reserved address ({address}).")
