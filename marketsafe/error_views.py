"""The refused page (403) as a page of the portal or of the admin console: its navigation, the reason when
the code gave one, and a way back. Wired as the root URLconf's `handler403`.

It lives with the wiring because it chooses between the two sides: a brand page's refusal keeps the
brand's sections (when the user is a member of the brand in the URL), an admin page's keeps the admin's
header, breadcrumbs and sidebar.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from brands.models import BrandMembership


def _back_url(request: HttpRequest, fallback: str) -> str:
    """The page the user came from, when it is one of ours (and not this very page), else `fallback`."""
    referer = request.headers.get("referer", "")
    allowed = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referer if allowed and referer != request.build_absolute_uri() else fallback


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Our own refusals give a reason in words ("Your role in Acme does not allow this."); a bare one none.
    reason = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
    user = request.user
    if request.path.startswith(reverse("admin:index")) and user.is_active and user.is_staff:
        context = {
            **admin.site.each_context(request),
            "title": "You may not open this page",
            "reason": reason,
            "back_url": _back_url(request, reverse("admin:index")),
        }
        return TemplateResponse(request, "admin/403.html", context, status=403)
    membership = None
    slug = (request.resolver_match.kwargs if request.resolver_match else {}).get("brand_slug")
    if slug:
        membership = BrandMembership.objects.active_of(user, brand_slug=slug).first()
    context = {
        "reason": reason,
        "membership": membership,
        "brand": membership.brand if membership else None,
        "back_url": _back_url(request, reverse("home")),
    }
    return TemplateResponse(request, "403.html", context, status=403)
