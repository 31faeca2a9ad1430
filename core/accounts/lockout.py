"""django-axes' two hooks (see the `AXES_*` settings): the lockout page, and how the client's address is
found behind the trusted proxies."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The lockout page (`AXES_LOCKOUT_CALLABLE`), with the time from which a login is accepted again.

    Every attempt during the lockout restarts the cool-off (django-axes' default), so that time is now
    plus the cool-off.
    """
    context = {
        "retry_at": timezone.now() + settings.AXES_COOLOFF_TIME,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "axes/lockout.html", context, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for the lockout (`AXES_CLIENT_IP_CALLABLE`).

    Behind `TRUSTED_PROXY_COUNT` proxies, each appending the address it received the request from to
    X-Forwarded-For, the client's address is that many entries from the right; entries further left are
    whatever the client sent. Without proxies only REMOTE_ADDR is trusted. Reading the header's left end,
    or trusting it without a proxy, would let a client pick a new address for every attempt.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote
