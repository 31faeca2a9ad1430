"""Resolving the current brand of a request and enforcing the member's role.

Every brand page lives under `/b/<brand_slug>/`. The brand is resolved once, through the tenant scope:
a brand the user is not an active member of does not exist for them (404); a member whose role lacks
the view's capability gets 403.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase

from brands.choices import Capability
from brands.models import Brand, BrandMembership

#: Where `memberships_of` keeps a read request's memberships.
_MEMBERSHIPS_ATTR = "_brand_memberships"


def memberships_of(request: HttpRequest) -> list[BrandMembership]:
    """The user's active memberships with their brands (`BrandMembership.objects.active_of`), one query.

    A brand page needs the brand (a brand the user is no active member of is not found), the member's role
    and the brand switcher's list: they are all the same rows, so a read (GET, HEAD) asks once and the
    switcher (`brands.context_processors`) reuses the list. A write reads them afresh each time, since the
    view may have changed them before it renders.
    """
    if request.method not in ("GET", "HEAD"):
        return list(BrandMembership.objects.active_of(request.user))
    memberships = getattr(request, _MEMBERSHIPS_ATTR, None)
    if memberships is None:
        memberships = list(BrandMembership.objects.active_of(request.user))
        setattr(request, _MEMBERSHIPS_ATTR, memberships)
    return memberships


class BrandAccessMixin(LoginRequiredMixin):
    """For class-based views under `/b/<brand_slug>/`: sets `self.brand` and `self.membership`."""

    #: What the member's role must allow.
    capability: str = Capability.VIEW

    brand: Brand
    membership: BrandMembership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        # The same rows as Brand.objects.for_user(user).get(slug=...) and its active membership, in one query.
        slug = kwargs["brand_slug"]
        self.membership = next((m for m in memberships_of(request) if m.brand.slug == slug), None)  # type: ignore[assignment]
        if self.membership is None:
            raise Http404("No brand matches the given query.")
        self.brand = self.membership.brand
        if not self.membership.can(self.capability):
            raise PermissionDenied(f"Your role in {self.brand} does not allow this.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(brand=self.brand, membership=self.membership)
        return context
