"""Resolving the current brand of a request and enforcing the member's role.

Every brand page lives under `/b/<brand_slug>/`. The brand is resolved once, through the tenant scope:
a brand the user is not an active member of does not exist for them (404); a member whose role lacks
the view's capability gets 403.
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404

from brands.choices import Capability
from brands.models import Brand, BrandMembership


class BrandAccessMixin(LoginRequiredMixin):
    """For class-based views under `/b/<brand_slug>/`: sets `self.brand` and `self.membership`."""

    #: What the member's role must allow.
    capability: str = Capability.VIEW

    brand: Brand
    membership: BrandMembership

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.brand = get_object_or_404(Brand.objects.for_user(request.user), slug=kwargs["brand_slug"])
        self.membership = BrandMembership.objects.active_of(request.user, brand=self.brand).get()
        if not self.membership.can(self.capability):
            raise PermissionDenied(f"Your role in {self.brand} does not allow this.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(brand=self.brand, membership=self.membership)
        return context
