"""The base of every brand endpoint: the brand and role come from the credential, reads go through the
tenant scope, the role is checked before any lookup.

Subclasses declare `model` (the brand-owned model they expose; the tenancy meta-test requires an API
tenancy case for each of their routes) and `capabilities`, the capability each action needs (actions not
listed need VIEW when they only read, FILE otherwise). Their querysets come from
`model.objects.for_user(user, brand=self.brand)` (or a selector built on it), so another brand's id is
simply not found: 404, never 403.
"""

from typing import Any

from django.db import models
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from brands.api.authentication import ApiTokenAuthentication, BrandCredential, BrandSessionAuthentication
from brands.api.permissions import BrandRolePermission
from brands.api.throttles import TokenRateThrottle
from brands.choices import Capability
from brands.models import Brand, BrandMembership
from core.api.pagination import KeysetPagination
from core.api.schema import ApiAutoSchema


class BrandScopedMixin:
    """For DRF views and viewsets of brand endpoints."""

    model: type[models.Model]
    capabilities: dict[str, str] = {}
    authentication_classes = [ApiTokenAuthentication, BrandSessionAuthentication]
    permission_classes = [BrandRolePermission]
    throttle_classes = [TokenRateThrottle]
    pagination_class = KeysetPagination
    schema = ApiAutoSchema()
    request: Request

    def required_capability(self, request: Request) -> str:
        action = getattr(self, "action", None) or request.method.lower()
        if action in self.capabilities:
            return self.capabilities[action]
        return Capability.VIEW if request.method in SAFE_METHODS else Capability.FILE

    @property
    def credential(self) -> BrandCredential:
        return self.request.auth

    @property
    def brand(self) -> Brand:
        return self.credential.brand

    @property
    def membership(self) -> BrandMembership:
        return self.credential.membership

    def scoped(self, model: type[models.Model] | None = None) -> models.QuerySet:
        """`model`'s rows of the request's brand, through the tenant scope."""
        return (model or self.model).objects.for_user(self.request.user, brand=self.brand)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        if isinstance(getattr(self.request, "auth", None), BrandCredential):
            context["brand"] = self.brand
        return context


class BrandScopedGenericViewSet(BrandScopedMixin, viewsets.GenericViewSet):
    """Subclasses give their reads in `brand_queryset()`."""

    lookup_value_converter = "int"

    def get_queryset(self) -> models.QuerySet:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, without a request's brand
            return self.model.objects.none()
        return self.brand_queryset()

    def brand_queryset(self) -> models.QuerySet:
        return self.scoped()
